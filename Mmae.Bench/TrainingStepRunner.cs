using Mmae.Engine;
using Mmae.Engine.Modules;
using Mmae.Engine.Optim;
using Mmae.Kernels;

namespace Mmae.Bench;

/// <summary>
/// A DeepAE (784-1000-500-250-256 unless told otherwise) with Adam and L_mm against a 100-D
/// reference (or another regulariser), ready to run training steps on fixed random data; what
/// `mmae train` does per batch.
/// </summary>
public sealed class TrainingStepRunner
{
    private readonly IBackend _be;
    private readonly int _batch, _inputDim, _refDim;
    private readonly DeepAutoencoder _model;
    private readonly Adam _adam;
    private readonly Workspace _ws;
    private readonly float[] _x, _e;
    private readonly Func<Tensor, Tensor, Tensor, Tensor> _regularizer;

    /// <summary>A runner for one batch size; the other sizes default to the paper's MNIST model.
    /// </summary>
    /// <param name="be">The backend every tensor lives on.</param>
    /// <param name="batch">Rows per step.</param>
    /// <param name="inputDim">Features per row.</param>
    /// <param name="latent">Latent dimension m.</param>
    /// <param name="refDim">Reference dimension l.</param>
    /// <param name="hidden">Encoder widths; the DeepAE's 1000-500-250 when null.</param>
    /// <param name="regularizer">The term added to the reconstruction loss, from the batch x,
    /// its codes z and the reference rows e; L_mm(z, e) when null.</param>
    public TrainingStepRunner(
        IBackend be,
        int batch,
        int inputDim = 784,
        int latent = 256,
        int refDim = 100,
        int[]? hidden = null,
        Func<Tensor, Tensor, Tensor, Tensor>? regularizer = null)
    {
        _regularizer = regularizer ?? ((_, z, e) => Losses.ManifoldMatch(z, e));
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
        Tensor loss = Losses.Mse(_model.Decoder.Forward(z), xt) + _regularizer(xt, z, et);
        loss.Backward();
        _adam.Step();
        return loss.Item();
    }
}
