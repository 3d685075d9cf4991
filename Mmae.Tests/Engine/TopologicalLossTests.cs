using Mmae.Engine;
using Mmae.Kernels;
using Mmae.Kernels.Cpu;
using Mmae.Kernels.Scalar;
using Mmae.Tests.Kernels;
using Xunit;

namespace Mmae.Tests.Engine;

/// <summary>
/// The topological loss of Moor et al. and its spanning trees, and the GRAE geometric loss:
/// trees against Kruskal's algorithm, values against a direct float64 evaluation, gradients
/// against finite differences, float32 backends against the float64 oracle.
/// </summary>
public class TopologicalLossTests
{
    // Tree weights are sums of p − 1 float64 distances computed the same way on both sides;
    // only the summation order differs, so they agree to a few ulps of the total.
    private const double WeightTolerance = 1e-12;

    [Theory]
    [InlineData(2, 1, 1)]
    [InlineData(3, 2, 2)]
    [InlineData(7, 3, 3)]
    [InlineData(40, 5, 4)]
    [InlineData(128, 10, 5)]
    public void Prim_RandomPoints_MatchesKruskal(int p, int dim, int seed)
    {
        double[] w = Distances(GradientCheck.Random(new Rng((ulong)seed), p * dim), p, dim);

        (int I, int J)[] prim = MinimumSpanningTree.Prim(w, p);
        (int I, int J)[] kruskal = Kruskal(w, p);

        Assert.Equal(p - 1, prim.Length);
        Assert.Equal(TreeWeight(w, p, kruskal), TreeWeight(w, p, prim), WeightTolerance);
        // Continuous random points have no tied distances, so the tree is unique.
        AssertSameEdges(kruskal, prim);
    }

    [Fact]
    public void Prim_SquaredOrPlainDistances_SameTree()
    {
        int p = 30, dim = 3;
        double[] w = Distances(GradientCheck.Random(new Rng(3), p * dim), p, dim);
        double[] squared = w.Select(v => v * v).ToArray();

        AssertSameEdges(MinimumSpanningTree.Prim(w, p), MinimumSpanningTree.Prim(squared, p));
    }

    [Fact]
    public void Prim_WeightsNotSquare_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => MinimumSpanningTree.Prim(new double[10], 3));
        Assert.Contains("3×3", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2, 3, 2)]
    [InlineData(9, 6, 2)]
    [InlineData(16, 5, 3)]
    public void Topological_Value_MatchesDirectEvaluation(int p, int d, int m)
    {
        var rng = new Rng((ulong)(300 + p));
        double[] x = GradientCheck.Random(rng, p * d);
        double[] z = GradientCheck.Random(rng, p * m, 0.3);
        var be = GradientCheck.Backend;

        double loss = Losses.Topological(Tensor.FromArray(be, x, p, d), Tensor.FromArray(be, z, p, m)).Item();

        // The definition with Kruskal's trees: ½ Σ over each tree of (A^X − A^Z)², over p.
        double[] ax = Distances(x, p, d), az = Distances(z, p, m);
        double sum = 0;
        foreach ((int i, int j) in Kruskal(ax, p).Concat(Kruskal(az, p)))
        {
            sum += 0.5 * Math.Pow(ax[i * p + j] - az[i * p + j], 2);
        }

        Assert.Equal(sum / p, loss, 1e-12);
    }

    [Fact]
    public void Topological_ScaleInputByMax_DividesInputDistances()
    {
        int p = 10, d = 4, m = 2;
        var rng = new Rng(31);
        double[] x = GradientCheck.Random(rng, p * d);
        double[] z = GradientCheck.Random(rng, p * m, 0.2);
        double max = Distances(x, p, d).Max();
        var be = GradientCheck.Backend;
        Tensor zt = Tensor.FromArray(be, z, p, m);

        double scaled = Losses.Topological(Tensor.FromArray(be, x, p, d), zt, scaleInputByMax: true).Item();
        double divided = Losses.Topological(Tensor.FromArray(be, x.Select(v => v / max).ToArray(), p, d), zt).Item();

        Assert.Equal(divided, scaled, 1e-12);
    }

    [Theory]
    [InlineData(5, 4, 2, false)]
    [InlineData(8, 6, 3, false)]
    [InlineData(12, 10, 2, true)]
    public void Topological_Gradient_MatchesFiniteDifferences(int p, int d, int m, bool scaleInputByMax)
    {
        // Gaussian points: no two distances tie, and a 1e-5 step changes no spanning tree.
        var rng = new Rng((ulong)(400 + p));
        GradientCheck.Check(t => Losses.Topological(t[0], t[1], scaleInputByMax),
            [GradientCheck.Random(rng, p * d), GradientCheck.Random(rng, p * m, 0.5)],
            [[p, d], [p, m]], differentiate: [false, true]);
    }

    [Fact]
    public void Topological_CoincidentLatentPoints_GradientFinite()
    {
        int p = 6, d = 3, m = 2;
        var rng = new Rng(41);
        double[] z = GradientCheck.Random(rng, p * m);
        Array.Copy(z, 1 * m, z, 4 * m, m);
        var be = GradientCheck.Backend;
        var zt = Tensor.FromArray(be, z, p, m);
        zt.RequiresGrad = true;

        Losses.Topological(Tensor.FromArray(be, GradientCheck.Random(rng, p * d), p, d), zt).Backward();

        // The zero-length edge (1, 4) is in the latent tree; 0/0 there would give NaN.
        Assert.All(zt.GradToDoubleArray()!, g => Assert.True(double.IsFinite(g), $"gradient {g}"));
    }

    [Fact]
    public void Topological_ScaledBackward_ScalesGradient()
    {
        // 3·L through Scale checks that the op multiplies by the incoming dLoss.
        var rng = new Rng(45);
        int p = 7, d = 3, m = 2;
        double[] x = GradientCheck.Random(rng, p * d), z = GradientCheck.Random(rng, p * m);
        GradientCheck.Check(t => Ops.Scale(Losses.Topological(t[0], t[1]), 3f),
            [x, z], [[p, d], [p, m]], differentiate: [false, true]);
    }

    [Fact]
    public void Topological_RowsDiffer_Throws()
    {
        var be = GradientCheck.Backend;
        var ex = Assert.Throws<ArgumentException>(
            () => Losses.Topological(Tensor.Zeros(be, 5, 3), Tensor.Zeros(be, 4, 2)));
        Assert.Contains("5 rows", ex.Message, StringComparison.Ordinal);
        Assert.Contains("4", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Topological_OnePoint_Throws()
    {
        var be = GradientCheck.Backend;
        var ex = Assert.Throws<ArgumentException>(
            () => Losses.Topological(Tensor.Zeros(be, 1, 3), Tensor.Zeros(be, 1, 2)));
        Assert.Contains("at least 2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Topological_CpuMatchesScalarOracle()
    {
        AssertTopologicalAgrees(new CpuBackend(2));
    }

    /// <summary>
    /// Loss and latent gradient of one topological loss on <paramref name="be"/> agree with the
    /// float64 oracle's on the same float32-representable inputs.
    /// </summary>
    internal static void AssertTopologicalAgrees(IBackend be)
    {
        // Float32 distances and sums against float64 ones: rounding stays near 1e-6 relative;
        // 1e-4 leaves room for the p² reductions, while a wrong term is off by order 1.
        const double relative = 1e-4;
        int p = 24, d = 20, m = 3;
        var rng = new Rng(51);
        float[] x = GradientCheck.Random(rng, p * d).Select(v => (float)v).ToArray();
        float[] z = GradientCheck.Random(rng, p * m).Select(v => (float)v).ToArray();

        (double testLoss, double[] testGrad) = LossAndGradient(be, x, z, p, d, m);
        (double oracleLoss, double[] oracleGrad) = LossAndGradient(new ScalarBackend(), x, z, p, d, m);

        Assert.True(Math.Abs(testLoss - oracleLoss) <= relative * Math.Abs(oracleLoss),
            $"loss: oracle {oracleLoss:R}, {be.Name} {testLoss:R}");
        double max = oracleGrad.Max(Math.Abs);
        for (int i = 0; i < oracleGrad.Length; i++)
        {
            Assert.True(Math.Abs(testGrad[i] - oracleGrad[i]) <= relative * max,
                $"dz[{i}]: oracle {oracleGrad[i]:R}, {be.Name} {testGrad[i]:R}, max |dz| {max:R}");
        }
    }

    private static (double Loss, double[] Gradient) LossAndGradient(
        IBackend be,
        float[] x,
        float[] z,
        int p,
        int d,
        int m)
    {
        var zt = Tensor.FromArray(be, z, p, m);
        zt.RequiresGrad = true;
        Tensor loss = Losses.Topological(Tensor.FromArray(be, x, p, d), zt);
        loss.Backward();
        return (loss.Item(), zt.GradToDoubleArray()!);
    }

    [Theory]
    [InlineData(6, 3)]
    [InlineData(1, 2)]
    [InlineData(9, 1)]
    public void Geometric_Gradient_MatchesFiniteDifferences(int p, int m)
    {
        var rng = new Rng((ulong)(500 + p));
        GradientCheck.Check(t => Losses.Geometric(t[0], t[1]),
            [GradientCheck.Random(rng, p * m), GradientCheck.Random(rng, p * m)],
            [[p, m], [p, m]], differentiate: [true, false]);
    }

    [Fact]
    public void Geometric_Value_IsMeanSquaredRowDistance()
    {
        int p = 5, m = 3;
        var rng = new Rng(61);
        double[] z = GradientCheck.Random(rng, p * m), e = GradientCheck.Random(rng, p * m);
        var be = GradientCheck.Backend;

        double loss = Losses.Geometric(Tensor.FromArray(be, z, p, m), Tensor.FromArray(be, e, p, m)).Item();

        double sum = 0;
        for (int k = 0; k < z.Length; k++)
        {
            sum += (z[k] - e[k]) * (z[k] - e[k]);
        }

        Assert.Equal(sum / p, loss, 1e-12);
    }

    [Fact]
    public void Geometric_ReferenceRequiresGrad_GetsNoGradient()
    {
        var rng = new Rng(62);
        var be = GradientCheck.Backend;
        var z = Tensor.Parameter(be, GradientCheck.Random(rng, 8), "z", 4, 2);
        var e = Tensor.Parameter(be, GradientCheck.Random(rng, 8), "e", 4, 2);

        Losses.Geometric(z, e).Backward();

        Assert.NotNull(z.Grad);
        Assert.Null(e.Grad);
    }

    [Fact]
    public void Geometric_DimensionsDiffer_ThrowsNamingBoth()
    {
        var be = GradientCheck.Backend;
        var ex = Assert.Throws<ArgumentException>(
            () => Losses.Geometric(Tensor.Zeros(be, 4, 2), Tensor.Zeros(be, 4, 100)));
        Assert.Contains("m = 2", ex.Message, StringComparison.Ordinal);
        Assert.Contains("l = 100", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Geometric_RowsDiffer_Throws()
    {
        var be = GradientCheck.Backend;
        var ex = Assert.Throws<ArgumentException>(
            () => Losses.Geometric(Tensor.Zeros(be, 4, 2), Tensor.Zeros(be, 3, 2)));
        Assert.Contains("reference has 3", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Geometric_NoRows_Throws()
    {
        var be = GradientCheck.Backend;
        var ex = Assert.Throws<ArgumentException>(
            () => Losses.Geometric(Tensor.Zeros(be, 0, 2), Tensor.Zeros(be, 0, 2)));
        Assert.Contains("at least 1", ex.Message, StringComparison.Ordinal);
    }

    // Euclidean distances of the rows of x (p×dim), in float64.
    private static double[] Distances(double[] x, int p, int dim)
    {
        var a = new double[p * p];
        for (int i = 0; i < p; i++)
        {
            for (int j = 0; j < p; j++)
            {
                double s = 0;
                for (int k = 0; k < dim; k++)
                {
                    double diff = x[i * dim + k] - x[j * dim + k];
                    s += diff * diff;
                }

                a[i * p + j] = Math.Sqrt(s);
            }
        }

        return a;
    }

    // Kruskal's algorithm with a union-find: an independent minimum spanning tree.
    private static (int I, int J)[] Kruskal(double[] w, int p)
    {
        var edges = new List<(int I, int J)>();
        for (int i = 0; i < p; i++)
        {
            for (int j = i + 1; j < p; j++)
            {
                edges.Add((i, j));
            }
        }

        edges.Sort((a, b) => w[a.I * p + a.J].CompareTo(w[b.I * p + b.J]));
        int[] root = Enumerable.Range(0, p).ToArray();
        int Find(int v)
        {
            while (root[v] != v)
            {
                root[v] = root[root[v]];
                v = root[v];
            }

            return v;
        }

        var tree = new List<(int I, int J)>();
        foreach ((int i, int j) in edges)
        {
            int ri = Find(i), rj = Find(j);
            if (ri != rj)
            {
                root[ri] = rj;
                tree.Add((i, j));
            }
        }

        return tree.ToArray();
    }

    private static double TreeWeight(double[] w, int p, (int I, int J)[] tree) =>
        tree.Sum(e => w[e.I * p + e.J]);

    private static void AssertSameEdges((int I, int J)[] expected, (int I, int J)[] actual)
    {
        static HashSet<(int, int)> Undirected((int I, int J)[] tree) =>
            tree.Select(e => (Math.Min(e.I, e.J), Math.Max(e.I, e.J))).ToHashSet();

        HashSet<(int, int)> want = Undirected(expected), got = Undirected(actual);
        Assert.True(want.SetEquals(got),
            $"edges only in expected: {string.Join(' ', want.Except(got))}; "
            + $"only in actual: {string.Join(' ', got.Except(want))}");
    }
}

/// <summary>The topological loss on the GPU backend, run on ILGPU's CPU accelerator.</summary>
[Collection(IlgpuCpuCollection.Name)]
public sealed class IlgpuCpuTopologicalLossTests(IlgpuCpuFixture fixture)
{
    [Fact]
    public void Topological_IlgpuCpuMatchesScalarOracle()
    {
        TopologicalLossTests.AssertTopologicalAgrees(fixture.Backend);
    }
}
