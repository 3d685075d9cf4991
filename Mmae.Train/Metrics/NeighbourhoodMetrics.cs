using Mmae.Train.Embeddings;

namespace Mmae.Train.Metrics;

/// <summary>The rank-based scores of an embedding at one neighbourhood size k.</summary>
/// <param name="K">Neighbourhood size.</param>
/// <param name="Trustworthiness">T(k): 1 when no embedding neighbour is a stranger in the input.
/// </param>
/// <param name="Continuity">C(k): 1 when no input neighbour is lost in the embedding.</param>
/// <param name="MrreLatentToData">MRRE_{Z→X}(k): relative rank errors of the latent k nearest
/// neighbours, 0 when perfect.</param>
/// <param name="MrreDataToLatent">MRRE_{X→Z}(k): relative rank errors of the input k nearest
/// neighbours, 0 when perfect.</param>
public sealed record NeighbourhoodScores(
    int K,
    double Trustworthiness,
    double Continuity,
    double MrreLatentToData,
    double MrreDataToLatent);

/// <summary>
/// Trustworthiness and continuity (Venna and Kaski) and the mean relative rank errors (Lee and
/// Verleysen) of an embedding: how well the k nearest neighbours of each point agree between
/// the input space X and the embedding Z.
/// </summary>
/// <remarks>
/// <para>n = points, D = input dim, d = embedding dim; high: (n, D), low: (n, d), row-major.
/// r(i, j) is the rank of j among the other points by distance from i in the input space
/// (nearest = 1) and r̂(i, j) the rank in the embedding. With U_k(i) the embedding's k nearest
/// neighbours of i that are not among its k nearest input neighbours, and V_k(i) the reverse,
/// T(k) = 1 − 2 / (n k (2n − 3k − 1)) Σ_i Σ_{j ∈ U_k(i)} (r(i, j) − k), and C(k) is the same
/// with V_k and r̂. Both are 1 for a perfect embedding; T is scikit-learn's
/// <c>trustworthiness(X, Z)</c> with the Euclidean metric and C is <c>trustworthiness(Z, X)</c>.
/// </para>
/// <para>With N̂_k(i) the embedding's and N_k(i) the input's k nearest neighbours of i and
/// c_k = n Σ_{j=1..k} |2j − n − 1| / j (the largest possible error, as Moor et al. normalise
/// for their topological autoencoders),
/// MRRE_{Z→X}(k) = (1 / c_k) Σ_i Σ_{j ∈ N̂_k(i)} |r(i, j) − r̂(i, j)| / r̂(i, j) and
/// MRRE_{X→Z}(k) = (1 / c_k) Σ_i Σ_{j ∈ N_k(i)} |r(i, j) − r̂(i, j)| / r(i, j).
/// Both are 0 for a perfect embedding.</para>
/// <para>Ties: distances are Euclidean, computed in double, and equal distances are ranked by
/// point index (what a stable sort gives), so results do not depend on thread count. Point i
/// itself is never its own neighbour. scikit-learn orders input neighbours with NumPy's default
/// argsort and embedding neighbours with its NearestNeighbors search, neither of which fixes
/// the order of equal distances, so the two agree exactly whenever no two distances from a
/// point are equal and can differ on data with many ties: on points of a 3-value integer grid,
/// by 0.04-0.08 in T(4). Jitter such data (or accept the index order) before comparing.</para>
/// <para>Every k must satisfy 1 ≤ k &lt; n / 2, the range over which T's normalisation is
/// defined (scikit-learn raises the same error); larger k throw rather than return a value
/// outside [0, 1]. Time is O(n² (D + d + log n)); memory is O(n) per thread plus O(n) per k,
/// so n is limited by time, not memory.</para>
/// </remarks>
public static class NeighbourhoodMetrics
{
    private const string Op = "NeighbourhoodMetrics.Compute";

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
        IReadOnlyList<int> ks) =>
        ComputeScores(high, highDim, low, lowDim, n, ks)
            .Select(s => (s.K, s.Trustworthiness, s.Continuity)).ToArray();

    /// <summary>Computes T(k), C(k) and both MRREs for every k in <paramref name="ks"/> in one
    /// pass over the distances.</summary>
    /// <param name="high">n × highDim input-space points, row-major.</param>
    /// <param name="highDim">Input dimension.</param>
    /// <param name="low">n × lowDim embedded points, row-major, same order as high.</param>
    /// <param name="lowDim">Embedding dimension.</param>
    /// <param name="n">Number of points, at least 3.</param>
    /// <param name="ks">Neighbourhood sizes, each with 1 ≤ k &lt; n / 2.</param>
    /// <param name="threads">Compute threads; 0 means every core. Results do not depend on it.
    /// </param>
    /// <returns>One entry per element of ks, in the same order.</returns>
    /// <exception cref="ArgumentException">A dimension is not positive, an array length is
    /// not n × dim, a value is not finite, or ks is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">n is below 3, or some k is outside
    /// 1 ≤ k &lt; n / 2.</exception>
    public static IReadOnlyList<NeighbourhoodScores> ComputeScores(
        float[] high,
        int highDim,
        float[] low,
        int lowDim,
        int n,
        IReadOnlyList<int> ks,
        int threads = 0)
    {
        Validate(high, highDim, low, lowDim, n, ks);
        return Run(high, highDim, low, lowDim, n, ks, threads).Scores;
    }

    /// <summary>The pass behind <see cref="ComputeScores"/> on validated input; also returns
    /// the largest squared distance in each space, which the distance metrics need.</summary>
    internal static (NeighbourhoodScores[] Scores, double MaxHighSq, double MaxLowSq) Run(
        float[] high,
        int highDim,
        float[] low,
        int lowDim,
        int n,
        IReadOnlyList<int> ks,
        int threads,
        HighDistanceCache? highCache = null)
    {
        double[] highD = PairwiseRows.ToDouble(high);
        double[] lowD = PairwiseRows.ToDouble(low);
        int[] sortedKs = ks.Distinct().Order().ToArray();
        int kc = sortedKs.Length;

        // Integer sums of (rank - k) per k: exact, so the thread split cannot change them. The
        // rank errors are fractions, so they are kept per row, (n, 2, kc), and added in row
        // order below for the same reason; likewise the per-row largest distances, (n, 2).
        long[] trustSums = new long[kc];
        long[] contSums = new long[kc];
        double[] rowErrors = new double[n * 2 * kc];
        double[] rowMax = new double[n * 2];
        object gate = new();
        PairwiseRows.ForEachRow(highD, highDim, lowD, lowDim, n, threads,
            () => new Workspace(n, kc), (i, highSq, lowSq, ws) =>
        {
            rowMax[2 * i] = RankRow(highSq, i, ws.HighOrder, ws.HighRank, ws.Keys);
            rowMax[2 * i + 1] = RankRow(lowSq, i, ws.LowOrder, ws.LowRank, ws.Keys);
            for (int q = 0; q < kc; q++)
            {
                int k = sortedKs[q];
                ws.Trust[q] += PenaltyOutsideK(ws.LowOrder, ws.HighRank, k);
                ws.Cont[q] += PenaltyOutsideK(ws.HighOrder, ws.LowRank, k);
            }

            RelativeRankErrors(ws.LowOrder, ws.HighRank, sortedKs,
                rowErrors.AsSpan(2 * i * kc, kc));
            RelativeRankErrors(ws.HighOrder, ws.LowRank, sortedKs,
                rowErrors.AsSpan((2 * i + 1) * kc, kc));
        }, ws =>
        {
            lock (gate)
            {
                for (int q = 0; q < kc; q++)
                {
                    trustSums[q] += ws.Trust[q];
                    contSums[q] += ws.Cont[q];
                }
            }
        }, highCache);

        double[] latentToData = new double[kc];
        double[] dataToLatent = new double[kc];
        double maxHigh = 0;
        double maxLow = 0;
        for (int i = 0; i < n; i++)
        {
            for (int q = 0; q < kc; q++)
            {
                latentToData[q] += rowErrors[2 * i * kc + q];
                dataToLatent[q] += rowErrors[(2 * i + 1) * kc + q];
            }

            maxHigh = Math.Max(maxHigh, rowMax[2 * i]);
            maxLow = Math.Max(maxLow, rowMax[2 * i + 1]);
        }

        var scores = new NeighbourhoodScores[ks.Count];
        for (int e = 0; e < ks.Count; e++)
        {
            int q = Array.BinarySearch(sortedKs, ks[e]);
            int k = ks[e];
            double norm = 2.0 / ((double)n * k * (2.0 * n - 3.0 * k - 1.0));
            double worst = LargestRankError(n, k);
            scores[e] = new NeighbourhoodScores(k, 1.0 - norm * trustSums[q],
                1.0 - norm * contSums[q], latentToData[q] / worst, dataToLatent[q] / worst);
        }

        return (scores, maxHigh, maxLow);
    }

    internal static void Validate(float[] high, int highDim, float[] low, int lowDim, int n,
        IReadOnlyList<int> ks)
    {
        ArgumentNullException.ThrowIfNull(high);
        ArgumentNullException.ThrowIfNull(low);
        ArgumentNullException.ThrowIfNull(ks);
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

        PairwiseRows.CheckPoints(Op, high, highDim, n, nameof(high));
        PairwiseRows.CheckPoints(Op, low, lowDim, n, nameof(low));
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
    }

    // c_k = n Σ_{j=1..k} |2j − n − 1| / j: the MRRE normaliser.
    private static double LargestRankError(int n, int k)
    {
        double sum = 0;
        for (int j = 1; j <= k; j++)
        {
            sum += Math.Abs(2.0 * j - n - 1) / j;
        }

        return n * sum;
    }

    // order: the other points by (distance, index); rank[j] = 1-based position of j in order.
    // Point i itself is given distance +infinity so it sorts last, as scikit-learn does.
    // Returns the largest squared distance from i to another point.
    private static double RankRow(ReadOnlySpan<double> dist, int i, int[] order, int[] rank,
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

        return keys[n - 2];
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

    // dst[q] = Σ_{p < ks[q]} |otherRank[order[p]] − (p + 1)| / (p + 1): the relative rank
    // errors of the nearest points by `order`, one running sum over the sorted ks.
    private static void RelativeRankErrors(int[] order, int[] otherRank, int[] sortedKs,
        Span<double> dst)
    {
        double sum = 0;
        int p = 0;
        for (int q = 0; q < sortedKs.Length; q++)
        {
            for (; p < sortedKs[q]; p++)
            {
                int rank = p + 1;
                sum += Math.Abs(otherRank[order[p]] - rank) / (double)rank;
            }

            dst[q] = sum;
        }
    }

    private sealed class Workspace
    {
        public Workspace(int n, int kCount)
        {
            HighOrder = new int[n];
            LowOrder = new int[n];
            HighRank = new int[n];
            LowRank = new int[n];
            Keys = new double[n];
            Trust = new long[kCount];
            Cont = new long[kCount];
        }

        public int[] HighOrder { get; }

        public int[] LowOrder { get; }

        public int[] HighRank { get; }

        public int[] LowRank { get; }

        public double[] Keys { get; }

        public long[] Trust { get; }

        public long[] Cont { get; }
    }
}
