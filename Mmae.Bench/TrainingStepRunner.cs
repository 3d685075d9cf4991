using Mmae.Engine;
using Mmae.Engine.Modules;
using Mmae.Engine.Optim;
using Mmae.Kernels;

namespace Mmae.Bench;

/// <summary>
/// A DeepAE (784-1000-500-250-256 unless told otherwise) with Adam and L_mm against a 100-D
/// reference, ready to run training steps on fixed random data; what `mmae train` does per
/// batch.
/// </summary>
public sealed class TrainingStepRunner
{
    private readonly IBackend _be;
    private readonly int _batch, _inputDim, _refDim;
    private readonly DeepAutoencoder _model;
    private readonly Adam _adam;
    private readonly Workspace _ws;
    private readonly float[] _x, _e;

    /// <summary>A runner for one batch size; the other sizes default to the paper's MNIST model.
    /// </summary>
    public TrainingStepRunner(
        IBackend be,
        int batch,
        int inputDim = 784,
        int latent = 256,
        int refDim = 100,
        int[]? hidden = null)
    {
        _be = be;
        _batch = batch;
        _inputDim = inputDim;
        _refDim = refDim;
        var rng = new Rng(1);
        _model = new DeepAutoencoder(be, inputDim, latent, rng, hidden);
        _adam = new Adam(_model.Parameters());
        _ws = new Workspace(be);
        _x = Enumerable.Range(0, batch * inputDim).Select(_ => (float)rng.Uniform(-1, 1)).ToArray();
        _e = Enumerable.Range(0, batch * refDim).Select(_ => (float)rng.NextGaussian()).ToArray();
    }

    /// <summary>Forward, backward and one Adam update; returns the loss (a device-to-host copy,
    /// so every queued kernel has finished when it returns).</summary>
    public double Step()
    {
        using var step = _ws.Step();
        Tensor xt = Tensor.Input(_be, _x, _batch, _inputDim);
        Tensor et = Tensor.Input(_be, _e, _batch, _refDim);
        _adam.ZeroGrad();
        Tensor z = _model.Encoder.Forward(xt);
        Tensor loss = Losses.Mse(_model.Decoder.Forward(z), xt) + Losses.ManifoldMatch(z, et);
        loss.Backward();
        _adam.Step();
        return loss.Item();
    }
}
