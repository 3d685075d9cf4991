using Mmae.Kernels;
using Mmae.Kernels.Scalar;
using Xunit;

namespace Mmae.Tests.Kernels;

/// <summary>
/// The scalar oracle's manifold-matching loss against a brute-force evaluation written here,
/// its scale invariance, and finite differences of its gradient.
/// </summary>
public sealed class ScalarMatchLossTests
{
    /// <summary>
    /// Oracle and brute force sum the same terms in double in different orders; their results
    /// differ by a few units in the 15th digit, so 1e-12 relative only admits rounding.
    /// </summary>
    private const double DoubleRoundingTolerance = 1e-12;

    /// <summary>
    /// Absolute floor for gradient entries that are 0 in exact arithmetic, where a relative
    /// bound means nothing. The rounding left in the rule (about 1e-16) is divided by
    /// ||D^Z||_F, which can be small, so allow 1e-12; real gradients here are above 1e-3.
    /// </summary>
    private const double ZeroGradientTolerance = 1e-12;

    private readonly ScalarBackend _backend = new();

    [Theory]
    [InlineData(2, 1, 3, 31)]
    [InlineData(7, 2, 5, 32)]
    [InlineData(16, 5, 3, 33)]
    public void Forward_EqualsBruteForce(int p, int m, int l, int seed)
    {
        var rng = new Random(seed);
        double[] z = TestArrays.Uniform(rng, p * m, -1.0, 1.0);
        double[] e = TestArrays.Uniform(rng, p * l, -2.0, 2.0);

        double actual = Loss(z, e, p, m, l);

        NumericAssert.Close(
            BruteForceLoss(z, e, p, m, l),
            actual,
            0.0,
            DoubleRoundingTolerance,
            $"L_mm (p {p}, m {m}, l {l})");
    }

    [Theory]
    [InlineData(1e-3)]
    [InlineData(0.5)]
    [InlineData(7.0)]
    [InlineData(1e3)]
    public void Forward_ScaledLatents_SameLoss(double alpha)
    {
        // D^{αZ} = α²·D^Z and the Frobenius normalisation divides α² out again.
        const int p = 9, m = 3, l = 4;
        var rng = new Random(34);
        double[] z = TestArrays.Uniform(rng, p * m, -1.0, 1.0);
        double[] e = TestArrays.Uniform(rng, p * l, -1.0, 1.0);
        double[] scaled = z.Select(v => alpha * v).ToArray();

        NumericAssert.Close(
            Loss(z, e, p, m, l),
            Loss(scaled, e, p, m, l),
            0.0,
            DoubleRoundingTolerance,
            $"L_mm(αZ, E) against L_mm(Z, E), α = {alpha}");
    }

    [Fact]
    public void Backward_ScaledLatents_GradientShrinksByAlpha()
    {
        // L(αZ) = L(Z) for α > 0, so differentiating gives α·∇L(αZ) = ∇L(Z).
        const int p = 6, m = 2, l = 5;
        const double alpha = 4.0;
        var rng = new Random(35);
        double[] z = TestArrays.Uniform(rng, p * m, -1.0, 1.0);
        double[] e = TestArrays.Uniform(rng, p * l, -1.0, 1.0);
        double[] scaled = z.Select(v => alpha * v).ToArray();

        double[] atScaled = Gradient(scaled, e, p, m, l, 1.0).Select(g => alpha * g).ToArray();

        NumericAssert.Close(
            Gradient(z, e, p, m, l, 1.0),
            atScaled,
            ZeroGradientTolerance,
            DoubleRoundingTolerance,
            "α·∇L(αZ) against ∇L(Z)");
    }

    [Theory]
    [InlineData(5, 2, 4, 36)]
    [InlineData(8, 3, 2, 37)]
    public void Backward_LatentAndReferenceDimsDiffer_MatchesFiniteDifferences(
        int p,
        int m,
        int l,
        int seed)
    {
        var rng = new Random(seed);
        double[] z = TestArrays.Uniform(rng, p * m, -1.0, 1.0);
        double[] e = TestArrays.Uniform(rng, p * l, -1.0, 1.0);
        const double dLoss = 2.5;

        FiniteDifference.AssertGradient(
            zs => dLoss * Loss(zs, e, p, m, l),
            z,
            Gradient(z, e, p, m, l, dLoss),
            $"dz (p {p}, m {m}, l {l})");
    }

    [Fact]
    public void Backward_TwoPoints_GradientIsZero()
    {
        // With p = 2, D^Z = [0 d; d 0] normalises to [0 1; 1 0]/√2 whatever d is, so the loss
        // is constant in z and both the finite differences and the rule must give 0.
        var rng = new Random(38);
        double[] z = TestArrays.Uniform(rng, 2 * 3, -1.0, 1.0);
        double[] e = TestArrays.Uniform(rng, 2 * 2, -1.0, 1.0);

        double[] dz = Gradient(z, e, 2, 3, 2, 1.0);

        FiniteDifference.AssertGradient(zs => Loss(zs, e, 2, 3, 2), z, dz, "dz (p 2)");
        NumericAssert.Close(new double[dz.Length], dz, ZeroGradientTolerance, 0.0, "dz (p 2)");
    }

    [Fact]
    public void Backward_DuplicatedPoints_MatchesFiniteDifferences()
    {
        // Rows 0 and 1 of z coincide, and rows 2 and 4 of e; D is smooth in z even there.
        const int p = 6, m = 2, l = 3;
        var rng = new Random(39);
        double[] z = TestArrays.Uniform(rng, p * m, -1.0, 1.0);
        double[] e = TestArrays.Uniform(rng, p * l, -1.0, 1.0);
        Array.Copy(z, 0, z, m, m);
        Array.Copy(e, 2 * l, e, 4 * l, l);

        FiniteDifference.AssertGradient(
            zs => Loss(zs, e, p, m, l), z, Gradient(z, e, p, m, l, 1.0), "dz with duplicates");
    }

    [Fact]
    public void CoincidingLatents_LossIsOneOverPSquaredAndGradientZero()
    {
        // All z rows equal: D^Z = 0, so D̃^Z = 0 and L = ||D̃^E||²/p² = 1/p²; the zero norm
        // blocks every gradient path, so dz = 0.
        const int p = 4, m = 3, l = 2;
        double[] z = TestArrays.Constant(p * m, 0.7);
        double[] e = TestArrays.Uniform(new Random(40), p * l, -1.0, 1.0);

        // The zero-norm branch writes exact zeros, so no tolerance at all is needed for dz.
        double loss = Loss(z, e, p, m, l);
        NumericAssert.Close(1.0 / (p * p), loss, 0.0, DoubleRoundingTolerance, "L_mm");
        NumericAssert.Close(new double[p * m], Gradient(z, e, p, m, l, 1.0), 0.0, 0.0, "dz");
    }

    private double Loss(double[] z, double[] e, int p, int m, int l)
    {
        DeviceBuffer loss = _backend.Allocate(1);
        _backend.MatchLossForward(_backend.Upload(z), _backend.Upload(e), p, m, l, loss);
        return _backend.Scalar(loss);
    }

    private double[] Gradient(double[] z, double[] e, int p, int m, int l, double dLoss)
    {
        DeviceBuffer dz = _backend.Allocate(p * m);
        _backend.MatchLossBackward(
            _backend.Upload(z), _backend.Upload(e), p, m, l, _backend.Upload([dLoss]), dz);
        return _backend.ToArray(dz);
    }

    /// <summary>L = (1/p²)·Σ_ij (D^E_ij/||D^E|| − D^Z_ij/||D^Z||)², straight from the definition.
    /// </summary>
    private static double BruteForceLoss(double[] z, double[] e, int p, int m, int l)
    {
        var dZ = new double[p, p];
        var dE = new double[p, p];
        double squaresZ = 0.0;
        double squaresE = 0.0;
        for (int i = 0; i < p; i++)
        {
            for (int j = 0; j < p; j++)
            {
                for (int c = 0; c < m; c++)
                {
                    dZ[i, j] += Math.Pow(z[i * m + c] - z[j * m + c], 2);
                }

                for (int c = 0; c < l; c++)
                {
                    dE[i, j] += Math.Pow(e[i * l + c] - e[j * l + c], 2);
                }

                squaresZ += dZ[i, j] * dZ[i, j];
                squaresE += dE[i, j] * dE[i, j];
            }
        }

        double total = 0.0;
        for (int i = 0; i < p; i++)
        {
            for (int j = 0; j < p; j++)
            {
                double normalisedE = dE[i, j] / Math.Sqrt(squaresE);
                double normalisedZ = dZ[i, j] / Math.Sqrt(squaresZ);
                total += Math.Pow(normalisedE - normalisedZ, 2);
            }
        }

        return total / (p * p);
    }
}
