using Mmae.Train.Embeddings;

namespace Mmae.Train.Metrics;

/// <summary>Scores of a labelling: agreement of two labellings (adjusted Rand index) and how
/// well a labelling separates points (silhouette).</summary>
public static class Clustering
{
    /// <summary>The adjusted Rand index of two labellings of the same points: 1 when they
    /// split the points identically (label values themselves do not matter), about 0 for
    /// independent labellings, negative below chance.</summary>
    /// <param name="a">One label per point.</param>
    /// <param name="b">One label per point, same length.</param>
    /// <remarks>With pair counts from the contingency table n_uv (points labelled u in a and v
    /// in b), S = Σ C(n_uv, 2), A = Σ_u C(a_u, 2), B = Σ_v C(b_v, 2), N = C(n, 2):
    /// ARI = (S − A B / N) / ((A + B) / 2 − A B / N), computed in exact integers up to the last
    /// division. When the denominator is 0 (both labellings put every point in one cluster, or
    /// every point in its own), the labellings agree and the result is 1, as in scikit-learn's
    /// <c>adjusted_rand_score</c>.</remarks>
    /// <exception cref="ArgumentException">The lengths differ.</exception>
    public static double AdjustedRandIndex(IReadOnlyList<int> a, IReadOnlyList<int> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Count != b.Count)
        {
            throw new ArgumentException(
                $"Clustering.AdjustedRandIndex: a has {a.Count} labels but b has {b.Count}; "
                + "both must label the same points.", nameof(b));
        }

        var cells = new Dictionary<(int, int), long>();
        var rowsA = new Dictionary<int, long>();
        var colsB = new Dictionary<int, long>();
        for (int i = 0; i < a.Count; i++)
        {
            cells[(a[i], b[i])] = cells.GetValueOrDefault((a[i], b[i])) + 1;
            rowsA[a[i]] = rowsA.GetValueOrDefault(a[i]) + 1;
            colsB[b[i]] = colsB.GetValueOrDefault(b[i]) + 1;
        }

        Int128 same = PairSum(cells.Values);
        Int128 pairsA = PairSum(rowsA.Values);
        Int128 pairsB = PairSum(colsB.Values);
        Int128 total = Pairs(a.Count);

        // Both sides times 2N keep every term an integer.
        Int128 numerator = 2 * (same * total - pairsA * pairsB);
        Int128 denominator = (pairsA + pairsB) * total - 2 * pairsA * pairsB;
        return denominator == 0 ? 1.0 : (double)numerator / (double)denominator;
    }

    /// <summary>The mean silhouette of <paramref name="labels"/> on the points
    /// <paramref name="x"/>, with Euclidean distances: near 1 when clusters are tight and far
    /// apart, near 0 when they overlap, negative when points sit nearer another cluster.
    /// </summary>
    /// <param name="x">n × dim points, row-major.</param>
    /// <param name="dim">Point dimension.</param>
    /// <param name="labels">One label per point (n of them); any int values.</param>
    /// <param name="threads">Compute threads; 0 means every core.</param>
    /// <remarks>For point i in cluster c, a(i) is its mean distance to the other points of c
    /// and b(i) the smallest mean distance to the points of another cluster;
    /// s(i) = (b − a) / max(a, b), and s(i) = 0 when c has only i. The score is the mean of
    /// s(i) over all points, as scikit-learn's <c>silhouette_score</c>. Time O(n² dim) in
    /// double, memory O(n + clusters) per thread; per-point values are added in index order,
    /// so the result does not depend on the thread count.</remarks>
    /// <exception cref="ArgumentException">A length does not match, a value is not finite, or
    /// the number of distinct labels is not between 2 and n − 1 (the silhouette is undefined
    /// there).</exception>
    public static double Silhouette(float[] x, int dim, IReadOnlyList<int> labels, int threads = 0)
    {
        const string Op = "Clustering.Silhouette";
        ArgumentNullException.ThrowIfNull(labels);
        int n = labels.Count;
        PairwiseRows.CheckPoints(Op, x, dim, n, nameof(x));
        (int[] cluster, int clusters) = Classes(labels);
        if (clusters < 2 || clusters > n - 1)
        {
            throw new ArgumentException(
                $"{Op}: {clusters} distinct labels on {n} points; the silhouette needs between 2 "
                + "and n - 1 clusters.", nameof(labels));
        }

        int[] sizes = new int[clusters];
        foreach (int c in cluster)
        {
            sizes[c]++;
        }

        double[] xd = PairwiseRows.ToDouble(x);
        double[] s = new double[n];
        Parallel.For(0, n, RowMath.Parallelism(threads), () => new double[clusters],
            (i, _, sums) =>
            {
                Array.Clear(sums);
                ReadOnlySpan<double> xi = xd.AsSpan(i * dim, dim);
                for (int j = 0; j < n; j++)
                {
                    double squared = RowMath.SquaredDistance(xi, xd.AsSpan(j * dim, dim));
                    sums[cluster[j]] += Math.Sqrt(squared);
                }

                int own = cluster[i];
                if (sizes[own] > 1)
                {
                    double a = sums[own] / (sizes[own] - 1);
                    double b = double.PositiveInfinity;
                    for (int c = 0; c < clusters; c++)
                    {
                        if (c != own)
                        {
                            b = Math.Min(b, sums[c] / sizes[c]);
                        }
                    }

                    double scale = Math.Max(a, b);
                    s[i] = scale > 0 ? (b - a) / scale : 0;
                }

                return sums;
            }, _ => { });

        double total = 0;
        foreach (double v in s)
        {
            total += v;
        }

        return total / n;
    }

    /// <summary>Labels renumbered 0 .. C − 1 in increasing order of value, and C.</summary>
    internal static (int[] Index, int Count) Classes(IReadOnlyList<int> labels)
    {
        int[] values = labels.Distinct().Order().ToArray();
        int[] index = new int[labels.Count];
        for (int i = 0; i < index.Length; i++)
        {
            index[i] = Array.BinarySearch(values, labels[i]);
        }

        return (index, values.Length);
    }

    private static Int128 Pairs(long count) => (Int128)count * (count - 1) / 2;

    private static Int128 PairSum(IEnumerable<long> counts)
    {
        Int128 sum = 0;
        foreach (long c in counts)
        {
            sum += Pairs(c);
        }

        return sum;
    }
}
