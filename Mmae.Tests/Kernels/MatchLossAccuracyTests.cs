using Mmae.Kernels;
using Mmae.Kernels.Cpu;
using Mmae.Kernels.Scalar;
using Xunit;

namespace Mmae.Tests.Kernels;

/// <summary>
/// A backend's matching losses (the Gram expansion for squared distances, the fused tiles for
/// plain distances) against the brute-force float64 oracle, on the inputs where shortcuts
/// break: nearly converged batches (Z an almost isometric, scaled copy of E) far from the
/// origin, sizes that are not multiples of any block, and m ≠ l. One subclass per backend.
/// </summary>
public abstract class MatchLossAccuracyTests : IDisposable
{
    // Inputs are rounded to float before both backends see them, so the oracle and the backend
    // under test differ only by the latter's own rounding. Gram sums (CPU and GPU) are float64
    // and the loss is
    // formed in float64, so its value keeps ~1e-12 relative accuracy before the final cast to
    // float (6e-8): 1e-5 leaves room for the cast and still catches any wrong term, which
    // would be off by order 1 relative to the loss.
    private const double LossRelative = 1e-5;

    // Gradients leave float64 once, in the final cast; plain-distance gradients also sum
    // float32 differences (≈ 1e-6 relative). 1e-4 of the largest component covers both.
    private const double GradientRelativeToMax = 1e-4;

    // Plain distances are float32 sums, each off by about u = 2⁻²⁴ relative. When D^Z is nearly
    // parallel to D^E (angle θ), such errors move the cosine only by ~u·sin θ, and the
    // loss (2/p²)(1 − cos θ) and its gradient, a difference of terms 1/sin θ times larger than
    // itself, by a relative ~u/sin θ. sin θ = p·sqrt(L) from L = (2/p²)(1 − cos θ).
    private const double Float32Roundoff = 1.0 / (1 << 24);

    private IBackend? _backend;

    /// <summary>
    /// (p, m, l, near converged). A subclass whose backend is slow may hide this method with its
    /// own <c>public static new Cases()</c> (see <see cref="TestClassDataAttribute"/>).
    /// </summary>
    public static TheoryData<int, int, int, bool> Cases() => new()
    {
        { 3, 3, 2, false },
        { 37, 11, 5, false },
        { 130, 256, 100, false },
        { 37, 11, 5, true },
        { 130, 256, 100, true },
        { 129, 2, 2, true },
    };

    /// <summary>Creates the backend under test; called at most once per test.</summary>
    protected abstract IBackend CreateBackend();

    /// <summary>Whether each test disposes its backend (false for a shared fixture's).</summary>
    protected virtual bool OwnsBackend => true;

    private IBackend Backend => _backend ??= CreateBackend();

    /// <summary>Disposes the backend when this test owns it and it holds resources.</summary>
    public void Dispose()
    {
        if (OwnsBackend)
        {
            (_backend as IDisposable)?.Dispose();
        }

        GC.SuppressFinalize(this);
    }

    [Theory]
    [TestClassData(nameof(Cases))]
    public void SquaredMatchLoss_MatchesOracle(int p, int m, int l, bool nearConverged)
    {
        var (z, e) = Inputs(p, m, l, nearConverged, seed: p + m + l);
        Compare(z, e, p, m, l, euclidean: false, nearConverged);
    }

    [Theory]
    [TestClassData(nameof(Cases))]
    public void EuclideanMatchLoss_MatchesOracle(int p, int m, int l, bool nearConverged)
    {
        var (z, e) = Inputs(p, m, l, nearConverged, seed: 7 * p + m + l);
        Compare(z, e, p, m, l, euclidean: true, nearConverged);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MatchLoss_AllPointsCoincide_DefinedLossAndZeroGradient(bool euclidean)
    {
        int p = 9, m = 4, l = 3;
        var z = Enumerable.Repeat(0.75, p * m).ToArray();
        var (_, e) = Inputs(p, m, l, false, seed: 3);
        var (loss, dz) = Evaluate(Backend, z, e, p, m, l, euclidean);
        Assert.Equal(1.0 / (p * p), loss, 1e-9);
        Assert.All(dz, v => Assert.Equal(0.0, v));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void MatchLoss_BackwardAfterForwardOfOtherBuffers_DoesNotReuseTheirTerms(bool euclidean)
    {
        // Backends may keep what a forward computed for the backward that follows it; a forward
        // on other buffers in between must not leak into the gradient.
        int p = 20, m = 5, l = 3;
        var (z1, e1) = Inputs(p, m, l, false, seed: 11);
        var (z2, e2) = Inputs(p, m, l, false, seed: 12);
        IBackend be = Backend;
        var (_, expected) = Evaluate(be, z1, e1, p, m, l, euclidean);

        DeviceBuffer a = be.Upload(z1), ea = be.Upload(e1), b = be.Upload(z2), eb = be.Upload(e2);
        DeviceBuffer loss = be.Allocate(1), dz = be.Allocate(p * m), dLoss = be.Upload(new[] { 1.25 });
        if (euclidean)
        {
            be.EuclideanMatchLossForward(a, ea, p, m, l, loss);
            be.EuclideanMatchLossForward(b, eb, p, m, l, loss);
            be.EuclideanMatchLossBackward(a, ea, p, m, l, dLoss, dz);
        }
        else
        {
            be.MatchLossForward(a, ea, p, m, l, loss);
            be.MatchLossForward(b, eb, p, m, l, loss);
            be.MatchLossBackward(a, ea, p, m, l, dLoss, dz);
        }

        var actual = new double[p * m];
        be.Download(dz, actual);
        Assert.Equal(expected, actual);
    }

    private void Compare(double[] z, double[] e, int p, int m, int l, bool euclidean, bool near)
    {
        var (lossTest, dzTest) = Evaluate(Backend, z, e, p, m, l, euclidean);
        var (lossRef, dzRef) = Evaluate(new ScalarBackend(), z, e, p, m, l, euclidean);
        string what = $"{(euclidean ? "euclidean" : "squared")} p {p}, m {m}, l {l}, near {near}";
        Assert.True(lossRef > 0, $"{what}: the oracle loss is {lossRef}; the case tests nothing");
        double sinTheta = Math.Min(1.0, p * Math.Sqrt(lossRef));
        double conditioning = euclidean ? Float32Roundoff / sinTheta : 0.0;
        Assert.True(Math.Abs(lossTest - lossRef) <= (LossRelative + conditioning) * lossRef,
            $"{what}: loss oracle {lossRef:R}, {Backend.Name} {lossTest:R}");
        double max = dzRef.Max(Math.Abs);
        double allowed = (GradientRelativeToMax + 8 * conditioning) * max;
        for (int i = 0; i < dzRef.Length; i++)
        {
            Assert.True(Math.Abs(dzTest[i] - dzRef[i]) <= allowed,
                $"{what}: dz[{i}] oracle {dzRef[i]:R}, {Backend.Name} {dzTest[i]:R}, max |dz| {max:E3}");
        }
    }

    private static (double Loss, double[] Dz) Evaluate(
        IBackend be, double[] z, double[] e, int p, int m, int l, bool euclidean)
    {
        DeviceBuffer zb = be.Upload(z), eb = be.Upload(e), loss = be.Allocate(1), dz = be.Allocate(p * m);
        DeviceBuffer dLoss = be.Upload(new[] { 1.25 });
        if (euclidean)
        {
            be.EuclideanMatchLossForward(zb, eb, p, m, l, loss);
            be.EuclideanMatchLossBackward(zb, eb, p, m, l, dLoss, dz);
        }
        else
        {
            be.MatchLossForward(zb, eb, p, m, l, loss);
            be.MatchLossBackward(zb, eb, p, m, l, dLoss, dz);
        }

        var lossHost = new double[1];
        var dzHost = new double[p * m];
        be.Download(loss, lossHost);
        be.Download(dz, dzHost);
        return (lossHost[0], dzHost);
    }

    // Random E; Z random, or (near converged) 3·E embedded in m dimensions, rotated by a random
    // orthogonal map, shifted 100 units from the origin and perturbed by 1e-3 noise.
    private static (double[] Z, double[] E) Inputs(int p, int m, int l, bool near, int seed)
    {
        var rng = new Random(seed);
        double[] e = Enumerable.Range(0, p * l).Select(_ => (double)(float)(2 * rng.NextDouble() - 1)).ToArray();
        var z = new double[p * m];
        if (!near)
        {
            for (int i = 0; i < z.Length; i++)
            {
                z[i] = (float)(2 * rng.NextDouble() - 1);
            }

            return (z, e);
        }

        double[] q = RandomOrthogonal(m, rng);
        for (int i = 0; i < p; i++)
        {
            for (int k = 0; k < m; k++)
            {
                double v = 100.0 + 1e-3 * (2 * rng.NextDouble() - 1);
                for (int c = 0; c < Math.Min(l, m); c++)
                {
                    v += 3.0 * e[i * l + c] * q[c * m + k];
                }

                z[i * m + k] = (float)v;
            }
        }

        return (z, e);
    }

    // Gram–Schmidt on random rows: an m×m orthogonal matrix, row-major.
    private static double[] RandomOrthogonal(int m, Random rng)
    {
        var q = new double[m * m];
        for (int r = 0; r < m; r++)
        {
            for (int k = 0; k < m; k++)
            {
                q[r * m + k] = rng.NextDouble() - 0.5;
            }

            for (int s = 0; s < r; s++)
            {
                double dot = 0;
                for (int k = 0; k < m; k++)
                {
                    dot += q[r * m + k] * q[s * m + k];
                }

                for (int k = 0; k < m; k++)
                {
                    q[r * m + k] -= dot * q[s * m + k];
                }
            }

            double norm = Math.Sqrt(Enumerable.Range(0, m).Sum(k => q[r * m + k] * q[r * m + k]));
            for (int k = 0; k < m; k++)
            {
                q[r * m + k] /= norm;
            }
        }

        return q;
    }
}

/// <summary>The SIMD float32 backend on two threads.</summary>
public sealed class CpuMatchLossAccuracyTests : MatchLossAccuracyTests
{
    /// <inheritdoc/>
    protected override IBackend CreateBackend() => new CpuBackend(2);
}
