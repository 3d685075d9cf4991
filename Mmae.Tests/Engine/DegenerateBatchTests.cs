using Mmae.Engine;
using Mmae.Engine.Modules;
using Mmae.Kernels;
using Mmae.Kernels.Cpu;
using Mmae.Kernels.Scalar;
using Xunit;

namespace Mmae.Tests.Engine;

/// <summary>
/// A batch whose points all coincide has ||D||_F = 0, so D̃ = D/||D||_F is 0/0. L_mm takes D̃ = 0
/// there: the loss is defined and the gradient finite (zero), on every backend, through the
/// engine op and autograd (the kernels alone are checked in MatchLossAccuracyTests).
/// </summary>
public class DegenerateBatchTests
{
    public static TheoryData<string, bool> Cases => new()
    {
        { "cpu", false }, { "cpu", true }, { "scalar", false }, { "scalar", true },
    };

    // Latent codes coincide, the reference does not: D̃^Z = 0, so L_mm = ||D̃^E||²/p² = 1/p².
    [Theory]
    [MemberData(nameof(Cases))]
    public void ManifoldMatch_LatentPointsCoincide_LossOneOverPSquaredAndZeroGradient(
        string backend,
        bool euclidean)
    {
        IBackend be = Backend(backend);
        int p = 7;
        var z = Tensor.Parameter(be, Enumerable.Repeat(0.375, p * 3).ToArray(), "z", p, 3);
        var e = Tensor.FromArray(be, GradientCheck.Random(new Rng(9), p * 2), p, 2);

        Tensor loss = Losses.ManifoldMatch(z, e, euclidean ? MatchDistance.Euclidean : MatchDistance.Squared);
        loss.Backward();

        Assert.Equal(1.0 / (p * p), loss.Item(), 1e-6);
        Assert.All(z.GradToDoubleArray()!, g => Assert.Equal(0.0, g));
    }

    // Both sides coincide: both D̃ are 0 and so is the loss.
    [Theory]
    [MemberData(nameof(Cases))]
    public void ManifoldMatch_BothSidesCoincide_ZeroLossAndZeroGradient(string backend, bool euclidean)
    {
        IBackend be = Backend(backend);
        var z = Tensor.Parameter(be, Enumerable.Repeat(-2.0, 5 * 4).ToArray(), "z", 5, 4);
        var e = Tensor.FromArray(be, Enumerable.Repeat(1.5, 5 * 2).ToArray(), 5, 2);

        Tensor loss = Losses.ManifoldMatch(z, e, euclidean ? MatchDistance.Euclidean : MatchDistance.Squared);
        loss.Backward();

        Assert.Equal(0.0, loss.Item());
        Assert.All(z.GradToDoubleArray()!, g => Assert.Equal(0.0, g));
    }

    // End to end: identical input rows make identical codes through a whole DeepAE (batch norm
    // maps a constant column to its bias); the total loss and every parameter gradient stay
    // finite.
    [Theory]
    [MemberData(nameof(Cases))]
    public void DeepAutoencoder_IdenticalRows_FiniteLossAndGradients(string backend, bool euclidean)
    {
        IBackend be = Backend(backend);
        var model = new DeepAutoencoder(be, 6, 2, new Rng(4), [5, 3]);
        double[] row = GradientCheck.Random(new Rng(5), 6, 0.5);
        var x = Tensor.FromArray(be, Enumerable.Range(0, 8).SelectMany(_ => row).ToArray(), 8, 6);
        var e = Tensor.FromArray(be, GradientCheck.Random(new Rng(6), 8 * 2), 8, 2);

        Tensor z = model.Encoder.Forward(x);
        Tensor rec = Losses.Mse(model.Decoder.Forward(z), x);
        Tensor mm = Losses.ManifoldMatch(z, e, euclidean ? MatchDistance.Euclidean : MatchDistance.Squared);
        (rec + mm).Backward();

        Assert.True(double.IsFinite(rec.Item() + mm.Item()));
        Assert.Equal(1.0 / 64, mm.Item(), 1e-6);
        foreach ((string name, Tensor t) in model.NamedParameters())
        {
            Assert.True(t.GradToDoubleArray()!.All(double.IsFinite), $"gradient of {name} is not finite");
        }
    }

    private static IBackend Backend(string name) => name == "cpu" ? new CpuBackend(2) : new ScalarBackend();
}
