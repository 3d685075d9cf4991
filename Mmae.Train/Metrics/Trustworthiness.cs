using System.Numerics;
using System.Runtime.InteropServices;
using Mmae.Train.Embeddings;

namespace Mmae.Train.Metrics;

/// <summary>
/// Trustworthiness T(k) alone, fast enough for every one of tens of thousands of points: the
/// figure <c>mmae reference</c> reports.
/// </summary>
/// <remarks>
/// <para>Same definition as <see cref="NeighbourhoodMetrics"/> (scikit-learn's
/// <c>trustworthiness</c>): T(k) = 1 − 2 / (n k (2n − 3k − 1)) Σ_i Σ_{j ∈ U_k(i)} (r(i, j) − k),
/// U_k(i) the embedding's k nearest neighbours of i that are not among its k nearest inputs.
/// Instead of sorting every row, r(i, j) is counted for the k embedding neighbours only:
/// 1 + the number of points closer to i than j in the input space (ties by index), so each
/// row costs O(n k) after its distances, which come from the CPU SGEMM in blocks of rows
/// (<see cref="DistanceBlocks"/>). Cost is about 2 n² D flops at matrix-product speed plus
/// n² k comparisons.</para>
/// <para>Those float distances err by about 1e-7 |x|², so a point within that of d(i, j) can
/// be counted on the wrong side; that moves T by about 1e-6 at most in practice. The result
/// does not depend on the thread count.</para>
/// </remarks>
public static class Trustworthiness
{
    /// <summary>T(k) of the embedding <paramref name="low"/> of <paramref name="high"/>.</summary>
    /// <param name="high">n × highDim input points, row-major.</param>
    /// <param name="highDim">Input dimension.</param>
    /// <param name="low">n × lowDim embedded points, row-major, same order.</param>
    /// <param name="lowDim">Embedding dimension.</param>
    /// <param name="n">Number of points, at least 3.</param>
    /// <param name="k">Neighbourhood size, 1 ≤ k &lt; n / 2.</param>
    /// <param name="threads">Compute threads; 0 means every core.</param>
    /// <exception cref="ArgumentException">A dimension is not positive, a length is not
    /// n × dim, or a value is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">n &lt; 3 or k is outside 1 ≤ k &lt; n / 2.</exception>
    public static double Compute(float[] high, int highDim, float[] low, int lowDim, int n, int k,
        int threads)
    {
        // The full metric's checks are the same; run them on the arguments.
        NeighbourhoodMetrics.Validate(high, highDim, low, lowDim, n, [k]);
        NeighbourGraph embedded = NearestNeighbours.Exact(low, n, lowDim, k, threads);
        var blocks = new DistanceBlocks(high, n, highDim, threads);
        long penalty = 0;
        for (int i0 = 0; i0 < n; i0 += blocks.BlockRows)
        {
            int rows = Math.Min(blocks.BlockRows, n - i0);
            float[] dist = blocks.Compute(i0, rows, n);
            long blockPenalty = 0;
            Parallel.For(0, rows, blocks.Parallel, () => 0L, (r, _, sum) =>
            {
                int i = i0 + r;
                Span<float> row = dist.AsSpan(r * n, n);

                // Self sorts last, as in the full metric.
                row[i] = float.PositiveInfinity;
                foreach (int j in embedded.Row(i))
                {
                    sum += Math.Max(0, Rank(row, j) - k);
                }

                return sum;
            }, sum => Interlocked.Add(ref blockPenalty, sum));
            penalty += blockPenalty;
        }

        double norm = 2.0 / ((double)n * k * (2.0 * n - 3.0 * k - 1.0));
        return 1.0 - norm * penalty;
    }

    // 1 + #{l : dist[l] < dist[j], or dist[l] = dist[j] and l < j}.
    private static int Rank(ReadOnlySpan<float> dist, int j)
    {
        float dj = dist[j];
        return 1 + Count(dist[..j], dj, orEqual: true) + Count(dist[j..], dj, orEqual: false);
    }

    // #{l : values[l] < threshold}, or ≤ with orEqual.
    private static int Count(ReadOnlySpan<float> values, float threshold, bool orEqual)
    {
        var t = new Vector<float>(threshold);
        ReadOnlySpan<Vector<float>> lanes = MemoryMarshal.Cast<float, Vector<float>>(values);
        Vector<int> count = Vector<int>.Zero;
        foreach (Vector<float> v in lanes)
        {
            // A true lane is all ones, i.e. −1 as an int.
            count -= orEqual ? Vector.LessThanOrEqual(v, t) : Vector.LessThan(v, t);
        }

        int total = Vector.Sum(count);
        for (int l = lanes.Length * Vector<float>.Count; l < values.Length; l++)
        {
            total += values[l] < threshold || (orEqual && values[l] == threshold) ? 1 : 0;
        }

        return total;
    }
}
