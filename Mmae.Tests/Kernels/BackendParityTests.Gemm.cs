using Mmae.Kernels;
using Xunit;

namespace Mmae.Tests.Kernels;

// Gemm and the bias kernels. op(A) is m×k, op(B) is k×n, C is m×n; x is rows×cols.
public abstract partial class BackendParityTests
{
    /// <summary>
    /// Shapes (m, n, k) × all four transpose combinations, with alpha = 1, beta = 0 and NaN in
    /// C beforehand. The shapes: a single element, small primes, sizes one past a power of two
    /// on every axis, an MNIST-sized layer (batch 128, 784 → 1000), a ragged one, and a wide one
    /// (2100 columns: two full 1024-column blocks of the CPU kernel and a ragged third), and a
    /// small products with a long inner dimension (one narrower than a column block, one wider),
    /// which the CPU splits over threads.
    /// </summary>
    /// <remarks>A subclass whose backend is slow may hide this method with its own
    /// <c>public static new GemmShapes()</c> (see <see cref="TestClassDataAttribute"/>).
    /// </remarks>
    public static TheoryData<bool, bool, int, int, int> GemmShapes() =>
        WithTranspositions([[1, 1, 1], [7, 5, 3], [33, 17, 65], [128, 1000, 784], [130, 250, 257],
            [13, 2100, 300], [7, 20, 9000], [5, 300, 8500]]);

    /// <summary>Each (m, n, k) of <paramref name="shapes"/> with all four transpose
    /// combinations.</summary>
    protected static TheoryData<bool, bool, int, int, int> WithTranspositions(int[][] shapes)
    {
        var data = new TheoryData<bool, bool, int, int, int>();
        foreach (int[] s in shapes)
        {
            foreach (bool transA in new[] { false, true })
            {
                foreach (bool transB in new[] { false, true })
                {
                    data.Add(transA, transB, s[0], s[1], s[2]);
                }
            }
        }

        return data;
    }

    /// <summary>
    /// (alpha, beta) variants × two shapes × all four transpose combinations: scaling only,
    /// plain accumulation, both scaled with a negative alpha, alpha = 0 (C = beta·C), and
    /// a subtraction of the old C.
    /// </summary>
    public static TheoryData<bool, bool, int, int, int, float, float> GemmScalings() =>
        WithScalings([[7, 5, 3], [33, 17, 65]]);

    /// <summary>Each (m, n, k) of <paramref name="shapes"/> with every (alpha, beta) variant
    /// and all four transpose combinations.</summary>
    protected static TheoryData<bool, bool, int, int, int, float, float> WithScalings(int[][] shapes)
    {
        var data = new TheoryData<bool, bool, int, int, int, float, float>();
        (float Alpha, float Beta)[] scalings = [(0.5f, 0.0f), (1.0f, 1.0f), (-1.5f, 0.25f),
            (0.0f, 0.5f), (2.0f, -1.0f)];
        foreach ((float alpha, float beta) in scalings)
        {
            foreach (int[] s in shapes)
            {
                foreach (bool transA in new[] { false, true })
                {
                    foreach (bool transB in new[] { false, true })
                    {
                        data.Add(transA, transB, s[0], s[1], s[2], alpha, beta);
                    }
                }
            }
        }

        return data;
    }

    [Theory]
    [TestClassData(nameof(GemmShapes))]
    public void Gemm_BetaZeroWithNaNInC_MatchesOracle(bool transA, bool transB, int m, int n, int k)
    {
        CheckGemm(transA, transB, m, n, k, 1.0f, 0.0f, seed: m + n + k);
    }

    [Theory]
    [TestClassData(nameof(GemmScalings))]
    public void Gemm_AlphaBeta_MatchesOracle(
        bool transA,
        bool transB,
        int m,
        int n,
        int k,
        float alpha,
        float beta)
    {
        CheckGemm(transA, transB, m, n, k, alpha, beta, seed: m * n + k);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 1000)]
    [InlineData(2, 17)]
    [InlineData(3, 1)]
    [InlineData(128, 17)]
    [InlineData(128, 1000)]
    public void AddRowVector_MatchesOracle(int rows, int cols)
    {
        var rng = new Random(rows * cols);
        double[] x = TestArrays.Uniform(rng, rows * cols, -1.0, 1.0);
        double[] bias = TestArrays.Uniform(rng, cols, -1.0, 1.0);
        Twin xs = Upload(x);
        Twin biases = Upload(bias);

        Run(b => b.AddRowVector(xs[b], biases[b], rows, cols));

        double[] scale = Map(rows * cols, i => Math.Abs(x[i]) + Math.Abs(bias[i % cols]));
        AssertMatches(xs, $"AddRowVector {rows}×{cols}", 1, scale);
    }

    [Theory]
    [InlineData(1, 1, false)]
    [InlineData(1, 1000, true)]
    [InlineData(2, 17, false)]
    [InlineData(3, 1, true)]
    [InlineData(128, 17, true)]
    [InlineData(128, 1000, false)]
    [InlineData(128, 1000, true)]
    [InlineData(257, 33, true)]
    public void ColumnSums_MatchesOracle(int rows, int cols, bool accumulate)
    {
        var rng = new Random(rows + cols);
        double[] x = TestArrays.Uniform(rng, rows * cols, -1.0, 1.0);
        double[] start = TestArrays.Uniform(rng, cols, -1.0, 1.0);
        Twin xs = Upload(x);
        Twin dst = Upload(start);

        Run(b => b.ColumnSums(xs[b], rows, cols, dst[b], accumulate));

        // A sum of rows terms (plus the old value when accumulating) of Σ_i |x_ij| magnitude.
        double[] scale = Map(
            cols,
            j => Enumerable.Range(0, rows).Sum(i => Math.Abs(x[i * cols + j]))
                + (accumulate ? Math.Abs(start[j]) : 0.0));
        AssertMatches(dst, $"ColumnSums {rows}×{cols}, accumulate {accumulate}", rows + 1, scale);
    }

    private void CheckGemm(
        bool transA,
        bool transB,
        int m,
        int n,
        int k,
        float alpha,
        float beta,
        int seed)
    {
        var rng = new Random(seed);
        double[] a = TestArrays.Uniform(rng, m * k, -1.0, 1.0);
        double[] b = TestArrays.Uniform(rng, k * n, -1.0, 1.0);
        double[] c = beta == 0.0f
            ? TestArrays.Constant(m * n, double.NaN)
            : TestArrays.Uniform(rng, m * n, -1.0, 1.0);
        Twin aa = Upload(a);
        Twin bb = Upload(b);
        Twin cc = Upload(c);

        Run(be => be.Gemm(transA, transB, m, n, k, alpha, aa[be], bb[be], beta, cc[be]));

        // Entry (i, j) is a k-term dot product plus the beta term. Its magnitude bound
        // |α|·Σ_p |op(A)_ip|·|op(B)_pj| is itself bounded by |α|·||row i||·||column j||
        // (Cauchy–Schwarz), which costs O(mk + kn) instead of a second product.
        double[] rowNorms = Map(m, i => Norm(k, p => a[transA ? p * m + i : i * k + p]));
        double[] colNorms = Map(n, j => Norm(k, p => b[transB ? j * k + p : p * n + j]));
        double[] scale = Map(
            m * n,
            ij => Math.Abs(alpha) * rowNorms[ij / n] * colNorms[ij % n]
                + (beta == 0.0f ? 0.0 : Math.Abs(beta * c[ij])));
        string context = $"Gemm(transA {transA}, transB {transB}, m {m}, n {n}, k {k}, "
            + $"alpha {alpha}, beta {beta})";
        AssertMatches(cc, context, k + 2, scale);
    }

    /// <summary>sqrt(Σ_p v(p)²) over p = 0..count−1.</summary>
    private static double Norm(int count, Func<int, double> v)
    {
        double squares = 0.0;
        for (int p = 0; p < count; p++)
        {
            squares += v(p) * v(p);
        }

        return Math.Sqrt(squares);
    }
}
