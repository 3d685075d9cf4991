using Mmae.Kernels;
using Mmae.Kernels.Cpu;

namespace Mmae.Train.Embeddings;

/// <summary>
/// Squared Euclidean distances from a block of rows of x to the first points of x, through
/// the CPU backend's packed SGEMM: |x_i − x_j|² = |x_i|² + |x_j|² − 2 x_i·x_j.
/// </summary>
/// <remarks>n = points, d = features; x: (n, d) row-major; a block is (rows, cols) row-major with
/// rows ≤ <see cref="BlockRows"/>. The expansion cancels digits for near points (about
/// 1e-7 |x|² absolute error), so users that need exact values recompute the few that matter.
/// The SGEMM sums each entry in a fixed order, so blocks do not depend on the thread count.
/// </remarks>
internal sealed class DistanceBlocks
{
    // Block size: 4M floats (16 MiB) of products at a time.
    private const int BlockFloats = 1 << 22;

    private readonly float[] _x;
    private readonly int _d;
    private readonly float[] _norms;
    private readonly float[] _products;
    private readonly float[] _rows;
    private readonly CpuBackend _backend;
    private readonly FloatBuffer _all;

    public DistanceBlocks(float[] x, int n, int d, int threads)
    {
        _x = x;
        _d = d;
        _norms = new float[n];
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<float> row = x.AsSpan(i * d, d);
            _norms[i] = RowMath.Dot(row, row);
        }

        BlockRows = Math.Min(n, Math.Max(16, BlockFloats / n));
        _products = new float[BlockRows * n];
        _rows = new float[BlockRows * d];
        _backend = threads > 0 ? new CpuBackend(threads) : new CpuBackend();
        _all = new FloatBuffer(_backend, x);
        Parallel = RowMath.Parallelism(threads);
    }

    /// <summary>Most rows in one block.</summary>
    public int BlockRows { get; }

    /// <summary>The thread limit, for the callers' own loops over a block.</summary>
    public ParallelOptions Parallel { get; }

    /// <summary>Distances (rows, cols) from points i0 .. i0 + rows to points 0 .. cols, in the
    /// first rows × cols entries of the returned buffer, which the next call reuses.</summary>
    public float[] Compute(int i0, int rows, int cols)
    {
        _x.AsSpan(i0 * _d, rows * _d).CopyTo(_rows);

        // FloatBuffer wraps the arrays, so the products land in _products without a copy.
        _backend.Gemm(false, true, rows, cols, _d, 1f, new FloatBuffer(_backend, _rows), _all, 0f,
            new FloatBuffer(_backend, _products));
        float[] products = _products;
        float[] norms = _norms;
        System.Threading.Tasks.Parallel.For(0, rows, Parallel, r =>
        {
            Span<float> row = products.AsSpan(r * cols, cols);
            float ni = norms[i0 + r];
            for (int j = 0; j < cols; j++)
            {
                row[j] = ni + norms[j] - 2f * row[j];
            }
        });
        return _products;
    }
}
