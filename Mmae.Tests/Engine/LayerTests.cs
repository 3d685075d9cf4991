using Mmae.Engine;
using Mmae.Engine.Modules;
using Mmae.Engine.Optim;
using Mmae.Kernels.Cpu;
using Xunit;

namespace Mmae.Tests.Engine;

public class LayerTests
{
    private const double FloatTolerance = 1e-5;

    [Fact]
    public void BatchNorm1d_TrainThenEval_UsesUnbiasedRunningStatistics()
    {
        // Column 0 = [1, 2, 6]: mean 3, biased var 14/3, unbiased var 7.
        // Column 1 = [-1, -1, 2]: mean 0, biased var 2, unbiased var 3.
        var be = new CpuBackend(1);
        var bn = new BatchNorm1d(be, 2);
        var x = Tensor.FromArray(be, new float[] { 1, -1, 2, -1, 6, 2 }, 3, 2);
        float[] y = bn.Forward(x).ToArray();
        Assert.Equal((1 - 3) / Math.Sqrt(14.0 / 3 + 1e-5), y[0], FloatTolerance);
        Assert.Equal((2 - 0) / Math.Sqrt(2.0 + 1e-5), y[5], FloatTolerance);

        // running = 0.9·initial + 0.1·batch: mean (0.3, 0), var (0.9 + 0.7, 0.9 + 0.3).
        float[] rm = bn.RunningMean.ToArray(), rv = bn.RunningVar.ToArray();
        Assert.Equal(0.3, rm[0], FloatTolerance);
        Assert.Equal(0.0, rm[1], FloatTolerance);
        Assert.Equal(1.6, rv[0], FloatTolerance);
        Assert.Equal(1.2, rv[1], FloatTolerance);

        bn.Eval();
        float[] ye = bn.Forward(Tensor.FromArray(be, new float[] { 2.3f, 1.2f }, 1, 2)).ToArray();
        Assert.Equal((2.3 - 0.3) / Math.Sqrt(1.6 + 1e-5), ye[0], FloatTolerance);
        Assert.Equal(1.2 / Math.Sqrt(1.2 + 1e-5), ye[1], FloatTolerance);
    }

    [Fact]
    public void Adam_TwoSteps_MatchHandComputedValues()
    {
        // One parameter with gradients 0.5 then -0.25, lr 0.1:
        // step 1: m = 0.05, v = 0.00025, m̂ = 0.5, v̂ = 0.25 → p = 1 − 0.1·0.5/(0.5 + 1e-8) ≈ 0.9
        // step 2: m = 0.045 − 0.025 = 0.02, v = 0.00024975 + 0.0000625 = 0.00031225,
        //         m̂ = 0.02/0.19, v̂ = 0.00031225/0.001999 → p ≈ 0.9 − 0.1·m̂/(sqrt(v̂) + 1e-8).
        var be = new CpuBackend(1);
        var p = Tensor.Parameter(be, [1.0], "p", 1);
        var adam = new Adam([p], new AdamOptions { LearningRate = 0.1f });
        p.Grad = be.Upload(new float[] { 0.5f });
        adam.Step();
        Assert.Equal(0.9, p.ToArray()[0], FloatTolerance);
        be.Copy(be.Upload(new float[] { -0.25f }), p.Grad);
        adam.Step();
        double mhat = 0.02 / (1 - 0.81), vhat = 0.00031225 / (1 - 0.999 * 0.999);
        Assert.Equal(0.9 - 0.1 * mhat / (Math.Sqrt(vhat) + 1e-8), p.ToArray()[0], FloatTolerance);
    }

    [Fact]
    public void Linear_Initialisation_StaysWithinPyTorchBound()
    {
        var lin = new Linear(new CpuBackend(1), 400, 30, new Rng(3));
        double bound = 1 / Math.Sqrt(400);
        float[] w = lin.Weight.ToArray();
        Assert.All(w, v => Assert.InRange(v, -bound, bound));
        // A uniform on ±b has variance b²/3; 12,000 draws pin it within a few percent.
        double var = w.Select(v => (double)v * v).Average();
        Assert.InRange(var, 0.95 * bound * bound / 3, 1.05 * bound * bound / 3);
    }

    [Fact]
    public void DeepAutoencoder_StateDict_UsesPyTorchNames()
    {
        var model = new DeepAutoencoder(new CpuBackend(1), 784, 16, new Rng(0));
        var names = model.StateDict().Select(s => s.Name).ToList();
        Assert.Contains("encoder.0.weight", names);
        Assert.Contains("encoder.1.running_var", names);
        Assert.Contains("encoder.9.bias", names);
        Assert.Contains("decoder.9.weight", names);
        Assert.Equal(16 * 250, model.Encoder.Layers.OfType<Linear>().Last().Weight.Length);
    }

    [Fact]
    public void Linear_WrongInputWidth_ThrowsNamingShapes()
    {
        var be = new CpuBackend(1);
        var lin = new Linear(be, 784, 10, new Rng(0));
        var ex = Assert.Throws<ArgumentException>(() => lin.Forward(Tensor.Zeros(be, 64, 28)));
        Assert.Contains("(batch, 784)", ex.Message);
        Assert.Contains("(64, 28)", ex.Message);
    }

    [Fact]
    public void ManifoldMatch_RowCountsDiffer_Throws()
    {
        var be = new CpuBackend(1);
        var ex = Assert.Throws<ArgumentException>(() =>
            Losses.ManifoldMatch(Tensor.Zeros(be, 5, 3), Tensor.Zeros(be, 4, 2)));
        Assert.Contains("reference has 4", ex.Message);
    }
}
