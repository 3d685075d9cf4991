namespace Mmae.Train.Embeddings;

/// <summary>The k nearest neighbours of each of n points, the point itself excluded.</summary>
/// <remarks>n = points, k = neighbours; Indices and Distances are (n, k), row-major, each row
/// nearest first with ties in index order. Distances are Euclidean.</remarks>
public sealed class NeighbourGraph
{
    /// <summary>Wraps neighbour lists.</summary>
    /// <exception cref="ArgumentException">An array length is not n × k.</exception>
    public NeighbourGraph(int count, int k, int[] indices, float[] distances)
    {
        ArgumentNullException.ThrowIfNull(indices);
        ArgumentNullException.ThrowIfNull(distances);
        if (indices.LongLength != (long)count * k || distances.LongLength != (long)count * k)
        {
            throw new ArgumentException(
                $"NeighbourGraph: expected {(long)count * k} indices and distances ({count} x {k}), "
                + $"got {indices.LongLength} and {distances.LongLength}.", nameof(indices));
        }

        Count = count;
        K = k;
        Indices = indices;
        Distances = distances;
    }

    /// <summary>Number of points n.</summary>
    public int Count { get; }

    /// <summary>Neighbours per point k.</summary>
    public int K { get; }

    /// <summary>(n, k) neighbour indices, nearest first.</summary>
    public int[] Indices { get; }

    /// <summary>(n, k) Euclidean distances matching <see cref="Indices"/>.</summary>
    public float[] Distances { get; }

    /// <summary>The neighbours of point <paramref name="i"/>.</summary>
    public ReadOnlySpan<int> Row(int i) => Indices.AsSpan(i * K, K);

    /// <summary>The distances to the neighbours of point <paramref name="i"/>.</summary>
    public ReadOnlySpan<float> RowDistances(int i) => Distances.AsSpan(i * K, K);
}

/// <summary>How the k nearest neighbours are found.</summary>
public enum NeighbourSearch
{
    /// <summary>The one expected to be faster: see <see cref="NearestNeighbours.PrefersExact"/>.</summary>
    Auto,

    /// <summary>Every pairwise distance, through blocked matrix products.</summary>
    Exact,

    /// <summary>Nearest-neighbour descent from a random-projection forest (approximate).</summary>
    Descent,
}

/// <summary>Exact k-nearest-neighbour search by blocked matrix products.</summary>
/// <remarks>
/// n = points, d = features; x: (n, d) row-major. |x_i − x_j|² = |x_i|² + |x_j|² − 2 x_i·x_j,
/// from the CPU backend's packed SGEMM (<see cref="DistanceBlocks"/>) on blocks of rows against
/// the rows up to the block, so each pair is multiplied once: about n² d flops at
/// matrix-product speed, and O(block × n + n k) memory. That float expansion
/// cancels digits for near points, so it only picks a few more candidates than needed; their
/// distances are then recomputed directly and the k nearest kept.
/// </remarks>
public static class NearestNeighbours
{
    /// <summary>Up to this many points <see cref="NeighbourSearch.Auto"/> is always exact.</summary>
    public const int ExactLimit = 4096;

    /// <summary>Auto is exact up to this many times k² points.</summary>
    /// <remarks>The exact search costs about n² d / 2 multiply-adds at matrix-product speed,
    /// descent about a constant times n k² d at dot-product speed, so descent wins once n
    /// exceeds a multiple of k². On the 10,000 digits (d = 784) descent took 0.55 of the
    /// exact time for k = 14 and 11 times it for k = 90, which puts the crossover near
    /// n = 28 k²: UMAP's 14 neighbours switch to descent above about 5,500 points, t-SNE's 90
    /// only above about 227,000.</remarks>
    public const int CrossoverPerK2 = 28;

    /// <summary>Whether <see cref="NeighbourSearch.Auto"/> picks the exact search for n points
    /// and k neighbours: n ≤ max(<see cref="ExactLimit"/>, <see cref="CrossoverPerK2"/> k²).</summary>
    public static bool PrefersExact(int n, int k) => n <= Math.Max(ExactLimit, (long)CrossoverPerK2 * k * k);

    // Extra candidates taken from the SGEMM distances before the direct recomputation: the
    // float expansion errs by about 1e-7 |x|², far below the gap to the 9th next point.
    private const int CandidateMargin = 8;

    // Columns per work item when the products are read by column.
    private const int ColumnChunk = 128;

    /// <summary>Finds the k nearest neighbours of every point by the chosen search.</summary>
    /// <param name="x">n × d points, row-major.</param>
    /// <param name="n">Number of points.</param>
    /// <param name="d">Features per point.</param>
    /// <param name="k">Neighbours per point, 1 ≤ k &lt; n.</param>
    /// <param name="search">Exact, descent, or auto (by <see cref="PrefersExact"/>).</param>
    /// <param name="seed">Seed of the descent's random choices.</param>
    /// <param name="threads">Compute threads; 0 means every core.</param>
    /// <exception cref="ArgumentException">x.Length is not n × d.</exception>
    /// <exception cref="ArgumentOutOfRangeException">k is outside 1..n − 1.</exception>
    public static NeighbourGraph Find(float[] x, int n, int d, int k, NeighbourSearch search,
        int seed, int threads)
    {
        bool exact = search == NeighbourSearch.Exact
            || (search == NeighbourSearch.Auto && PrefersExact(n, k));
        return exact
            ? Exact(x, n, d, k, threads)
            : NeighbourDescent.Run(x, n, d, k, seed, threads);
    }

    /// <summary>The exact k nearest neighbours of every point.</summary>
    /// <param name="x">n × d points, row-major.</param>
    /// <param name="n">Number of points.</param>
    /// <param name="d">Features per point.</param>
    /// <param name="k">Neighbours per point, 1 ≤ k &lt; n.</param>
    /// <param name="threads">Compute threads; 0 means every core.</param>
    /// <returns>The graph; each row is sorted by (distance, index), so the result does not
    /// depend on the thread count.</returns>
    /// <exception cref="ArgumentException">x.Length is not n × d.</exception>
    /// <exception cref="ArgumentOutOfRangeException">k is outside 1..n − 1.</exception>
    public static NeighbourGraph Exact(float[] x, int n, int d, int k, int threads)
    {
        Validate(x, n, d, k, "NearestNeighbours.Exact");
        int candidates = Math.Min(n - 1, k + CandidateMargin);
        float[] heapDist = new float[n * candidates];
        int[] heapIndex = new int[n * candidates];
        NeighbourHeap.Clear(heapDist, heapIndex);
        var blocks = new DistanceBlocks(x, n, d, threads);
        ParallelOptions parallel = blocks.Parallel;
        for (int i0 = 0; i0 < n; i0 += blocks.BlockRows)
        {
            // Only the lower block triangle is computed: rows i0 .. i0 + rows against the
            // prefix 0 .. i0 + rows of x, so each pair is multiplied once and serves both its
            // row and its column.
            int rows = Math.Min(blocks.BlockRows, n - i0);
            int cols = i0 + rows;
            float[] dist = blocks.Compute(i0, rows, cols);

            // Rows of the block take every column up to the block's end.
            Parallel.For(0, rows, parallel, r =>
            {
                int i = i0 + r;
                Span<float> hd = heapDist.AsSpan(i * candidates, candidates);
                Span<int> hi = heapIndex.AsSpan(i * candidates, candidates);
                ReadOnlySpan<float> row = dist.AsSpan(r * cols, cols);
                for (int j = 0; j < cols; j++)
                {
                    if (j != i && NeighbourHeap.Less(row[j], j, hd[0], hi[0]))
                    {
                        NeighbourHeap.TryPush(hd, hi, row[j], j);
                    }
                }
            });

            // Points before the block take the block's rows, read in column chunks so the
            // distances are still walked along rows.
            Parallel.For(0, (i0 + ColumnChunk - 1) / ColumnChunk, parallel, chunk =>
            {
                int c0 = chunk * ColumnChunk;
                int c1 = Math.Min(i0, c0 + ColumnChunk);
                for (int r = 0; r < rows; r++)
                {
                    int i = i0 + r;
                    for (int j = c0; j < c1; j++)
                    {
                        float dij = dist[r * cols + j];
                        Span<float> hd = heapDist.AsSpan(j * candidates, candidates);
                        if (NeighbourHeap.Less(dij, i, hd[0], heapIndex[j * candidates]))
                        {
                            NeighbourHeap.TryPush(hd, heapIndex.AsSpan(j * candidates, candidates), dij, i);
                        }
                    }
                }
            });
        }

        int[] indices = new int[n * k];
        float[] distances = new float[n * k];
        Parallel.For(0, n, parallel, i =>
        {
            Span<float> dist = heapDist.AsSpan(i * candidates, candidates);
            Span<int> index = heapIndex.AsSpan(i * candidates, candidates);
            ReadOnlySpan<float> xi = x.AsSpan(i * d, d);
            for (int c = 0; c < candidates; c++)
            {
                dist[c] = MathF.Sqrt(RowMath.SquaredDistance(xi, x.AsSpan(index[c] * d, d)));
            }

            NeighbourHeap.SortAscending(dist, index);
            dist[..k].CopyTo(distances.AsSpan(i * k, k));
            index[..k].CopyTo(indices.AsSpan(i * k, k));
        });

        return new NeighbourGraph(n, k, indices, distances);
    }

    internal static void Validate(float[] x, int n, int d, int k, string operation)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (n < 2 || d < 1 || x.LongLength != (long)n * d)
        {
            throw new ArgumentException(
                $"{operation}: expected x of n x d values with n >= 2 and d >= 1, got n = {n}, "
                + $"d = {d} and {x.LongLength} values.", nameof(x));
        }

        if (k < 1 || k >= n)
        {
            throw new ArgumentOutOfRangeException(nameof(k),
                $"{operation}: k must be in 1..n - 1 = 1..{n - 1}, got {k}.");
        }
    }
}
