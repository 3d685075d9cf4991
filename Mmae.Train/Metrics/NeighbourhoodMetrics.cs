using System.Runtime.CompilerServices;
using Mmae.Train.Embeddings;

namespace Mmae.Train.Metrics;

/// <summary>
/// Trustworthiness and continuity of an embedding (Venna and Kaski): how well the k nearest
/// neighbours of each point agree between the input space and the embedding.
/// </summary>
/// <remarks>
/// <para>n = points, D = input dim, d = embedding dim; high: (n, D), low: (n, d), row-major.
/// r(i, j) is the rank of j among the other points by distance from i in the input space
/// (nearest = 1) and r̂(i, j) the rank in the embedding. With U_k(i) the embedding's k nearest
/// neighbours of i that are not among its k nearest input neighbours, and V_k(i) the reverse,
/// T(k) = 1 − 2 / (n k (2n − 3k − 1)) Σ_i Σ_{j ∈ U_k(i)} (r(i, j) − k), and C(k) is the same
/// with V_k and r̂. Both are 1 for a perfect embedding; this is scikit-learn's
/// <c>trustworthiness</c> with the Euclidean metric.</para>
/// <para>Distances are Euclidean, computed in double; equal distances are ranked by point
/// index, so results do not depend on thread count. Time is O(n² (D + d + log n)); memory is
/// O(n) per thread, so n is limited by time, not memory.</para>
/// </remarks>
public static class NeighbourhoodMetrics
{
    // Points per distance tile: each row of the other points is loaded once per tile, which
    // cuts memory traffic 16-fold; 16 rows of 784 doubles (100 KiB) stay in L2.
    private const int TileRows = 16;

    /// <summary>Computes T(k) and C(k) for every k in <paramref name="ks"/>.</summary>
    /// <param name="high">n × highDim input-space points, row-major.</param>
    /// <param name="highDim">Input dimension.</param>
    /// <param name="low">n × lowDim embedded points, row-major, same order as high.</param>
    /// <param name="lowDim">Embedding dimension.</param>
    /// <param name="n">Number of points, at least 3.</param>
    /// <param name="ks">Neighbourhood sizes, each with 1 ≤ k &lt; n / 2.</param>
    /// <returns>One entry per element of ks, in the same order.</returns>
    /// <exception cref="ArgumentException">A dimension is not positive, an array length is
    /// not n × dim, a value is not finite, or ks is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">n is below 3, or some k is outside
    /// 1 ≤ k &lt; n / 2 (the range over which the normalisation is defined).</exception>
    public static IReadOnlyList<(int K, double Trustworthiness, double Continuity)> Compute(
        float[] high,
        int highDim,
        float[] low,
        int lowDim,
        int n,
        IReadOnlyList<int> ks)
    {
        Validate(high, highDim, low, lowDim, n, ks);
        double[] highD = ToDouble(high);
        double[] lowD = ToDouble(low);
        int[] sortedKs = ks.Distinct().Order().ToArray();

        // Integer sums of (rank - k) per k: exact, so the thread split cannot change them.
        long[] trustSums = new long[sortedKs.Length];
        long[] contSums = new long[sortedKs.Length];
        object gate = new();
        int tiles = (n + TileRows - 1) / TileRows;
        Parallel.For(0, tiles, () => new Workspace(n, sortedKs.Length), (tile, _, ws) =>
        {
            int i0 = tile * TileRows;
            int rows = Math.Min(TileRows, n - i0);
            SquaredDistanceTile(highD, highDim, n, i0, rows, ws.HighTile);
            SquaredDistanceTile(lowD, lowDim, n, i0, rows, ws.LowTile);
            for (int r = 0; r < rows; r++)
            {
                int i = i0 + r;
                RankRow(ws.HighTile.AsSpan(r * n, n), i, ws.HighOrder, ws.HighRank, ws.Keys);
                RankRow(ws.LowTile.AsSpan(r * n, n), i, ws.LowOrder, ws.LowRank, ws.Keys);
                for (int q = 0; q < sortedKs.Length; q++)
                {
                    int k = sortedKs[q];
                    ws.Trust[q] += PenaltyOutsideK(ws.LowOrder, ws.HighRank, k);
                    ws.Cont[q] += PenaltyOutsideK(ws.HighOrder, ws.LowRank, k);
                }
            }

            return ws;
        }, ws =>
        {
            lock (gate)
            {
                for (int q = 0; q < sortedKs.Length; q++)
                {
                    trustSums[q] += ws.Trust[q];
                    contSums[q] += ws.Cont[q];
                }
            }
        });

        var results = new (int K, double Trustworthiness, double Continuity)[ks.Count];
        for (int e = 0; e < ks.Count; e++)
        {
            int q = Array.BinarySearch(sortedKs, ks[e]);
            int k = ks[e];
            double norm = 2.0 / ((double)n * k * (2.0 * n - 3.0 * k - 1.0));
            results[e] = (k, 1.0 - norm * trustSums[q], 1.0 - norm * contSums[q]);
        }

        return results;
    }

    internal static void Validate(float[] high, int highDim, float[] low, int lowDim, int n,
        IReadOnlyList<int> ks)
    {
        ArgumentNullException.ThrowIfNull(high);
        ArgumentNullException.ThrowIfNull(low);
        ArgumentNullException.ThrowIfNull(ks);
        const string Op = "NeighbourhoodMetrics.Compute";
        if (n < 3)
        {
            throw new ArgumentOutOfRangeException(nameof(n),
                $"{Op}: n must be at least 3 (so that some k < n/2 exists), got {n}.");
        }

        if (highDim <= 0 || lowDim <= 0)
        {
            throw new ArgumentException(
                $"{Op}: dimensions must be positive, got highDim = {highDim}, lowDim = {lowDim}.",
                highDim <= 0 ? nameof(highDim) : nameof(lowDim));
        }

        CheckPoints(high, highDim, n, nameof(high));
        CheckPoints(low, lowDim, n, nameof(low));
        if (ks.Count == 0)
        {
            throw new ArgumentException($"{Op}: ks is empty; give at least one k.", nameof(ks));
        }

        foreach (int k in ks)
        {
            if (k < 1 || 2L * k >= n)
            {
                throw new ArgumentOutOfRangeException(nameof(ks),
                    $"{Op}: k = {k} must satisfy 1 <= k < n/2 = {n / 2.0} (n = {n}); "
                    + "use fewer neighbours or more points.");
            }
        }

        void CheckPoints(float[] points, int dim, int count, string name)
        {
            if (points.LongLength != (long)count * dim)
            {
                throw new ArgumentException(
                    $"{Op}: expected {name} of {(long)count * dim} values ({count} x {dim}), "
                    + $"got {points.LongLength}.", name);
            }

            for (long i = 0; i < points.LongLength; i++)
            {
                if (!float.IsFinite(points[i]))
                {
                    throw new ArgumentException(
                        $"{Op}: {name}[{i}] is {points[i]}; distances need finite values.", name);
                }
            }
        }
    }

    private static double[] ToDouble(float[] x)
    {
        double[] y = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            y[i] = x[i];
        }

        return y;
    }

    // dst[r, j] = |x_{i0+r} - x_j|², (rows, n). The tile's rows stay cached while every j
    // streams past once.
    // Hot loop: JIT it fully optimised at once; a one-shot CLI run would otherwise spend
    // much of its time in tier-0 code before tiering up.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SquaredDistanceTile(double[] x, int dim, int n, int i0, int rows,
        double[] dst)
    {
        for (int j = 0; j < n; j++)
        {
            ReadOnlySpan<double> xj = x.AsSpan(j * dim, dim);
            for (int r = 0; r < rows; r++)
            {
                dst[r * n + j] = RowMath.SquaredDistance(x.AsSpan((i0 + r) * dim, dim), xj);
            }
        }
    }

    // order: the other points by (distance, index); rank[j] = 1-based position of j in order.
    // Point i itself is given distance +infinity so it sorts last, as scikit-learn does.
    private static void RankRow(ReadOnlySpan<double> dist, int i, int[] order, int[] rank,
        double[] keys)
    {
        int n = dist.Length;
        dist.CopyTo(keys);
        keys[i] = double.PositiveInfinity;
        for (int j = 0; j < n; j++)
        {
            order[j] = j;
        }

        Array.Sort(keys, order);

        // Array.Sort is not stable: put each run of equal distances back in index order.
        int start = 0;
        for (int p = 1; p <= n; p++)
        {
            if (p == n || keys[p] != keys[start])
            {
                if (p - start > 1)
                {
                    Array.Sort(order, start, p - start);
                }

                start = p;
            }
        }

        for (int p = 0; p < n; p++)
        {
            rank[order[p]] = p + 1;
        }
    }

    // Σ over the k nearest by `order` of max(0, otherRank - k): the rank penalty of points
    // that are neighbours in one space but not the other.
    private static long PenaltyOutsideK(int[] order, int[] otherRank, int k)
    {
        long sum = 0;
        for (int p = 0; p < k; p++)
        {
            int excess = otherRank[order[p]] - k;
            if (excess > 0)
            {
                sum += excess;
            }
        }

        return sum;
    }

    private sealed class Workspace
    {
        public Workspace(int n, int kCount)
        {
            HighTile = new double[TileRows * n];
            LowTile = new double[TileRows * n];
            HighOrder = new int[n];
            LowOrder = new int[n];
            HighRank = new int[n];
            LowRank = new int[n];
            Keys = new double[n];
            Trust = new long[kCount];
            Cont = new long[kCount];
        }

        public double[] HighTile { get; }

        public double[] LowTile { get; }

        public int[] HighOrder { get; }

        public int[] LowOrder { get; }

        public int[] HighRank { get; }

        public int[] LowRank { get; }

        public double[] Keys { get; }

        public long[] Trust { get; }

        public long[] Cont { get; }
    }
}
