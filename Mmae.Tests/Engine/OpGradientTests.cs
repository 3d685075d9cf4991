using Mmae.Engine;
using Xunit;

namespace Mmae.Tests.Engine;

/// <summary>Every differentiable op against central finite differences in float64.</summary>
public class OpGradientTests
{
    // A random-target MSE turns a tensor output into a scalar whose gradient weights every
    // element differently, so a permuted or transposed gradient cannot pass.
    internal static Tensor Head(Tensor y, int seed)
    {
        double[] values = GradientCheck.Random(new Rng((ulong)seed), y.Length);
        var target = Tensor.FromArray(GradientCheck.Backend, values, y.Shape);
        return Losses.Mse(y, target);
    }

    [Fact]
    public void Linear_Gradients_MatchFiniteDifferences()
    {
        var rng = new Rng(1);
        GradientCheck.Check(
            t => Head(Ops.Linear(t[0], t[1], t[2]), 11),
            [GradientCheck.Random(rng, 5 * 7), GradientCheck.Random(rng, 3 * 7), GradientCheck.Random(rng, 3)],
            [[5, 7], [3, 7], [3]]);
    }

    [Fact]
    public void Relu_Gradient_MatchesFiniteDifferencesAwayFromZero()
    {
        var rng = new Rng(2);
        double[] x = GradientCheck.Random(rng, 40);
        for (int i = 0; i < x.Length; i++)
        {
            // Keep every input at least 0.1 from the kink, where the derivative is undefined.
            x[i] = x[i] >= 0 ? x[i] + 0.1 : x[i] - 0.1;
        }

        GradientCheck.Check(t => Head(Ops.Relu(t[0]), 12), [x], [[8, 5]]);
    }

    [Fact]
    public void Tanh_Gradient_MatchesFiniteDifferences()
    {
        var rng = new Rng(3);
        GradientCheck.Check(t => Head(Ops.Tanh(t[0]), 13), [GradientCheck.Random(rng, 30, 1.5)], [[6, 5]]);
    }

    [Fact]
    public void BatchNorm1d_Training_GradientsMatchFiniteDifferences()
    {
        var rng = new Rng(4);
        int n = 6, c = 4;
        double[] x = GradientCheck.Random(rng, n * c, 2.0);
        double[] gamma = GradientCheck.Random(rng, c);
        double[] beta = GradientCheck.Random(rng, c);
        GradientCheck.Check(t =>
        {
            var rm = Tensor.Zeros(GradientCheck.Backend, c);
            var rv = Tensor.FromArray(GradientCheck.Backend, Enumerable.Repeat(1.0, c).ToArray(), c);
            return Head(Ops.BatchNorm1d(t[0], t[1], t[2], rm, rv, true, 0.1f, 1e-5f), 14);
        }, [x, gamma, beta], [[n, c], [c], [c]]);
    }

    [Fact]
    public void AddAndScale_Gradients_MatchFiniteDifferences()
    {
        var rng = new Rng(5);
        GradientCheck.Check(
            t => Head(Ops.Add(t[0], Ops.Scale(t[1], -2.5f)) + t[0], 15),
            [GradientCheck.Random(rng, 12), GradientCheck.Random(rng, 12)],
            [[3, 4], [3, 4]]);
    }

    [Fact]
    public void Mse_Gradients_MatchFiniteDifferencesForBothArguments()
    {
        var rng = new Rng(6);
        GradientCheck.Check(t => Losses.Mse(t[0], t[1]),
            [GradientCheck.Random(rng, 15), GradientCheck.Random(rng, 15)], [[5, 3], [5, 3]]);
    }

    [Fact]
    public void PairwiseSquaredDistances_Gradient_MatchesFiniteDifferences()
    {
        var rng = new Rng(7);
        GradientCheck.Check(t => Head(Ops.PairwiseSquaredDistances(t[0]), 16),
            [GradientCheck.Random(rng, 5 * 3)], [[5, 3]]);
    }

    [Fact]
    public void FrobeniusNormalize_Gradient_MatchesFiniteDifferences()
    {
        var rng = new Rng(8);
        GradientCheck.Check(t => Head(Ops.FrobeniusNormalize(t[0]), 17),
            [GradientCheck.Random(rng, 4 * 4)], [[4, 4]]);
    }

    [Theory]
    [InlineData(6, 4, 3)]
    [InlineData(5, 2, 7)]
    [InlineData(2, 3, 2)]
    [InlineData(7, 5, 5)]
    public void ManifoldMatch_Gradient_MatchesFiniteDifferences(int p, int m, int l)
    {
        var rng = new Rng((ulong)(100 + p * 10 + m));
        GradientCheck.Check(t => Losses.ManifoldMatch(t[0], t[1]),
            [GradientCheck.Random(rng, p * m), GradientCheck.Random(rng, p * l)],
            [[p, m], [p, l]], differentiate: [true, false]);
    }

    [Theory]
    [InlineData(6, 4, 3)]
    [InlineData(2, 3, 2)]
    [InlineData(5, 2, 7)]
    public void ManifoldMatchEuclidean_Gradient_MatchesFiniteDifferences(int p, int m, int l)
    {
        var rng = new Rng((ulong)(200 + p * 10 + m));
        GradientCheck.Check(t => Losses.ManifoldMatch(t[0], t[1], MatchDistance.Euclidean),
            [GradientCheck.Random(rng, p * m), GradientCheck.Random(rng, p * l)],
            [[p, m], [p, l]], differentiate: [true, false]);
    }

    [Fact]
    public void ManifoldMatch_DuplicatedPoints_GradientMatchesFiniteDifferences()
    {
        var rng = new Rng(9);
        int p = 6, m = 3, l = 2;
        double[] z = GradientCheck.Random(rng, p * m);
        double[] e = GradientCheck.Random(rng, p * l);
        // Rows 1 and 4 coincide in latent space, rows 0 and 2 in the reference.
        Array.Copy(z, 1 * m, z, 4 * m, m);
        Array.Copy(e, 0 * l, e, 2 * l, l);
        GradientCheck.Check(t => Losses.ManifoldMatch(t[0], t[1]), [z, e], [[p, m], [p, l]],
            differentiate: [true, false]);
    }

    [Fact]
    public void ComposedMatchLoss_EqualsFusedLoss()
    {
        // The fused L_mm equals the composition of its differentiable parts, value and gradient.
        var rng = new Rng(10);
        int p = 7, m = 4, l = 3;
        double[] z = GradientCheck.Random(rng, p * m);
        double[] e = GradientCheck.Random(rng, p * l);
        var be = GradientCheck.Backend;
        var zt = Tensor.FromArray(be, z, p, m);
        zt.RequiresGrad = true;
        var et = Tensor.FromArray(be, e, p, l);
        Tensor fused = Losses.ManifoldMatch(zt, et);
        fused.Backward();
        double[] fusedGrad = zt.GradToDoubleArray()!;

        var z2 = Tensor.FromArray(be, z, p, m);
        z2.RequiresGrad = true;
        Tensor dz = Ops.FrobeniusNormalize(Ops.PairwiseSquaredDistances(z2));
        Tensor de = Ops.FrobeniusNormalize(Ops.PairwiseSquaredDistances(et));
        Tensor composed = Losses.Mse(dz, de);
        composed.Backward();
        double[] composedGrad = z2.GradToDoubleArray()!;

        Assert.Equal(fused.Item(), composed.Item(), 12);
        for (int i = 0; i < fusedGrad.Length; i++)
        {
            Assert.Equal(fusedGrad[i], composedGrad[i], 12);
        }
    }
}
