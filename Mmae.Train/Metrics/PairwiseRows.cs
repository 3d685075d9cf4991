using System.Runtime.CompilerServices;
using Mmae.Train.Embeddings;

namespace Mmae.Train.Metrics;

/// <summary>The pieces every all-pairs metric shares: checking point arrays, widening them to
/// double, and squared distances from a tile of rows to every point.</summary>
internal static class PairwiseRows
{
    /// <summary>Points per distance tile: each row of the other points is loaded once per
    /// tile, which cuts memory traffic 16-fold; 16 rows of 784 doubles (100 KiB) stay in L2.
    /// </summary>
    public const int TileRows = 16;

    /// <summary>Number of tiles covering n rows.</summary>
    public static int Tiles(int n) => (n + TileRows - 1) / TileRows;

    /// <summary>Throws unless <paramref name="points"/> holds count × dim finite values.</summary>
    public static void CheckPoints(string op, float[] points, int dim, int count, string name)
    {
        ArgumentNullException.ThrowIfNull(points, name);
        if (dim <= 0)
        {
            throw new ArgumentException(
                $"{op}: the dimension of {name} must be positive, got {dim}.", name);
        }

        if (points.LongLength != (long)count * dim)
        {
            throw new ArgumentException(
                $"{op}: expected {name} of {(long)count * dim} values ({count} x {dim}), "
                + $"got {points.LongLength}.", name);
        }

        for (long i = 0; i < points.LongLength; i++)
        {
            if (!float.IsFinite(points[i]))
            {
                throw new ArgumentException(
                    $"{op}: {name}[{i}] is {points[i]}; distances need finite values.", name);
            }
        }
    }

    /// <summary>y[i] = (double)x[i].</summary>
    public static double[] ToDouble(float[] x)
    {
        double[] y = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            y[i] = x[i];
        }

        return y;
    }

    /// <summary>Per-row work of an all-pairs metric: row i of the squared distance matrices of
    /// both spaces, each of length n, and the calling thread's own state.</summary>
    public delegate void RowBody<in TState>(int i, ReadOnlySpan<double> highSq,
        ReadOnlySpan<double> lowSq, TState state);

    /// <summary>Calls <paramref name="body"/> for every row i &lt; n, tiles of rows in parallel
    /// on up to <paramref name="threads"/> threads (0: every core). Each thread gets its own
    /// state from <paramref name="init"/> and hands it to <paramref name="finish"/> at the end,
    /// so bodies write shared results only per row. With a <paramref name="highCache"/>, the
    /// first pass fills it and later passes read the input-space rows from it.</summary>
    public static void ForEachRow<TState>(
        double[] high,
        int highDim,
        double[] low,
        int lowDim,
        int n,
        int threads,
        Func<TState> init,
        RowBody<TState> body,
        Action<TState> finish,
        HighDistanceCache? highCache = null)
    {
        bool cached = highCache is { Filled: true };
        Parallel.For(0, Tiles(n), RowMath.Parallelism(threads),
            () => (High: new double[TileRows * n], Low: new double[TileRows * n], State: init()),
            (tile, _, ws) =>
            {
                int i0 = tile * TileRows;
                int rows = Math.Min(TileRows, n - i0);
                double[] highRows = ws.High;
                int highStart = 0;
                if (cached)
                {
                    highRows = highCache!.Rows;
                    highStart = i0 * n;
                }
                else
                {
                    SquaredDistanceTile(high, highDim, n, i0, rows, ws.High);
                    if (highCache is not null)
                    {
                        ws.High.AsSpan(0, rows * n).CopyTo(highCache.Rows.AsSpan(i0 * n));
                    }
                }

                SquaredDistanceTile(low, lowDim, n, i0, rows, ws.Low);
                for (int r = 0; r < rows; r++)
                {
                    ReadOnlySpan<double> highSq = highRows.AsSpan(highStart + r * n, n);
                    body(i0 + r, highSq, ws.Low.AsSpan(r * n, n), ws.State);
                }

                return ws;
            },
            ws => finish(ws.State));
        if (highCache is not null)
        {
            highCache.Filled = true;
        }
    }

    /// <summary>dst[r, j] = |x_{i0+r} − x_j|² for r &lt; rows, j &lt; n; dst is (rows, n).
    /// </summary>
    // The tile's rows stay cached while every j streams past once. Hot loop: JIT it fully
    // optimised at once; a one-shot CLI run would otherwise spend much of its time in tier-0
    // code before tiering up.
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
}

/// <summary>The input space's squared distance matrix, (n, n), kept between the passes of
/// <see cref="QualityMetrics.Evaluate"/> so the costly high-dimensional distances are computed
/// once; the latent ones are cheap to recompute.</summary>
internal sealed class HighDistanceCache
{
    /// <summary>Most memory a cache may take: 256 MiB, n ≤ 5,792 points.</summary>
    public const long MaxBytes = 256L << 20;

    private HighDistanceCache(int n)
    {
        Rows = new double[(long)n * n];
    }

    /// <summary>Row i at [i n, (i + 1) n).</summary>
    public double[] Rows { get; }

    /// <summary>Whether a pass has filled <see cref="Rows"/>.</summary>
    public bool Filled { get; set; }

    /// <summary>A cache for n points, or null when it would exceed <see cref="MaxBytes"/>
    /// (each pass then computes its own distances).</summary>
    public static HighDistanceCache? TryCreate(int n) =>
        (long)n * n * sizeof(double) <= MaxBytes ? new HighDistanceCache(n) : null;
}
