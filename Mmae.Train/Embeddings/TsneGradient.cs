using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Mmae.Train.Embeddings;

/// <summary>
/// The gradient of t-SNE's cost KL(P ‖ Q) with respect to the embedding.
/// </summary>
/// <remarks>
/// n = points, L = embedding dim; y and dy are (n, L) row-major. With w_ij = 1 / (1 + |y_i −
/// y_j|²), Z = Σ_{i≠j} w_ij and q_ij = w_ij / Z:
/// dC/dy_i = 4 (α Σ_j p_ij w_ij (y_i − y_j) − Σ_j w_ij² (y_i − y_j) / Z),
/// the first sum attraction (α is the early exaggeration, 1 afterwards), the second repulsion.
/// </remarks>
internal abstract class TsneGradient
{
    protected TsneGradient(int n, int dims, int threads)
    {
        Count = n;
        Dims = dims;
        Parallel = RowMath.Parallelism(threads);
    }

    protected int Count { get; }

    protected int Dims { get; }

    protected ParallelOptions Parallel { get; }

    /// <summary>Writes dC/dy for exaggeration α into <paramref name="dy"/>.</summary>
    public abstract void Compute(double[] y, double exaggeration, double[] dy);
}

/// <summary>Exact gradient over all pairs with a dense P: O(n²) a step, for small n.</summary>
internal sealed class ExactTsneGradient : TsneGradient
{
    // Rows per work item; fixed, so Z is summed in the same order on any thread count.
    private const int ChunkSize = 64;

    private readonly double[] _p;
    private readonly double[] _repulsion;

    public ExactTsneGradient(double[] p, int n, int dims, int threads)
        : base(n, dims, threads)
    {
        _p = p;
        _repulsion = new double[n * dims];
    }

    public override void Compute(double[] y, double exaggeration, double[] dy)
    {
        int n = Count;
        int l = Dims;
        int chunks = (n + ChunkSize - 1) / ChunkSize;
        double[] partialZ = new double[chunks];
        System.Threading.Tasks.Parallel.For(0, chunks, Parallel, chunk =>
        {
            double z = 0;
            int end = Math.Min(n, (chunk + 1) * ChunkSize);
            Span<double> diff = stackalloc double[l];
            for (int i = chunk * ChunkSize; i < end; i++)
            {
                Span<double> attract = dy.AsSpan(i * l, l);
                Span<double> repel = _repulsion.AsSpan(i * l, l);
                attract.Clear();
                repel.Clear();
                for (int j = 0; j < n; j++)
                {
                    if (j == i)
                    {
                        continue;
                    }

                    double d2 = 0;
                    for (int c = 0; c < l; c++)
                    {
                        diff[c] = y[i * l + c] - y[j * l + c];
                        d2 += diff[c] * diff[c];
                    }

                    double w = 1 / (1 + d2);
                    z += w;
                    double pw = _p[(long)i * n + j] * w;
                    double ww = w * w;
                    for (int c = 0; c < l; c++)
                    {
                        attract[c] += pw * diff[c];
                        repel[c] += ww * diff[c];
                    }
                }
            }

            partialZ[chunk] = z;
        });

        double inverseZ = 1 / partialZ.Sum();
        for (int e = 0; e < dy.Length; e++)
        {
            dy[e] = 4 * (exaggeration * dy[e] - _repulsion[e] * inverseZ);
        }
    }
}

/// <summary>Sparse attraction over the neighbour graph plus Barnes-Hut repulsion:
/// O(n (k + log n)) a step.</summary>
/// <remarks>The attraction runs in float: coordinates are copied into one float array per axis
/// each step, and each row of P is summed 8 entries at a time with AVX2 gathers (a plain
/// loop where AVX2 is missing). Its relative error, about 1e-6, is far below that of θ.</remarks>
internal sealed unsafe class BarnesHutTsneGradient<TDims> : TsneGradient
    where TDims : struct, ISpaceDims
{
    private const int ChunkSize = 256;

    private readonly SparseMatrix _p;
    private readonly float[] _values;
    private readonly double _theta;
    private readonly BarnesHutTree<TDims> _tree;
    private readonly double[] _repulsion;
    private readonly float[][] _axes;

    public BarnesHutTsneGradient(SparseMatrix p, double theta, int threads)
        : base(p.Size, TDims.Count, threads)
    {
        _p = p;
        _values = Array.ConvertAll(p.Values, v => (float)v);
        _theta = theta;
        _tree = new BarnesHutTree<TDims>(p.Size);
        _repulsion = new double[p.Size * TDims.Count];
        _axes = [new float[p.Size], new float[p.Size], new float[p.Size]];
    }

    public override void Compute(double[] y, double exaggeration, double[] dy)
    {
        _tree.Build(y);
        double inverseZ = 1 / _tree.Repulsion(_theta, _repulsion, Parallel);
        int n = Count;
        int l = TDims.Count;
        for (int i = 0; i < n; i++)
        {
            for (int c = 0; c < l; c++)
            {
                _axes[c][i] = (float)y[i * l + c];
            }
        }

        System.Threading.Tasks.Parallel.For(0, (n + ChunkSize - 1) / ChunkSize, Parallel, chunk =>
        {
            int end = Math.Min(n, (chunk + 1) * ChunkSize);
            Span<float> attract = stackalloc float[3];
            for (int i = chunk * ChunkSize; i < end; i++)
            {
                AttractRow(i, attract);
                for (int c = 0; c < l; c++)
                {
                    dy[i * l + c] = 4 * (exaggeration * attract[c] - _repulsion[i * l + c] * inverseZ);
                }
            }
        });
    }

    // attract = Σ_j p_ij w_ij (y_i − y_j) over row i of P, w = 1 / (1 + |y_i − y_j|²).
    private void AttractRow(int i, Span<float> attract)
    {
        bool three = TDims.Count == 3;
        float[] xs = _axes[0], ys = _axes[1], zs = _axes[2];
        float xi = xs[i], yi = ys[i], zi = three ? zs[i] : 0;
        float ax = 0, ay = 0, az = 0;
        int e = _p.RowStart[i];
        int end = _p.RowStart[i + 1];
        if (Avx2.IsSupported && end - e >= 8)
        {
            fixed (float* px = xs, py = ys, pz = zs, pv = _values)
            fixed (int* pc = _p.Columns)
            {
                Vector256<float> vxi = Vector256.Create(xi), vyi = Vector256.Create(yi);
                Vector256<float> vzi = Vector256.Create(zi), one = Vector256.Create(1f);
                Vector256<float> sx = Vector256<float>.Zero, sy = sx, sz = sx;
                for (; e + 8 <= end; e += 8)
                {
                    Vector256<int> j = Avx.LoadVector256(pc + e);
                    Vector256<float> dx = vxi - Avx2.GatherVector256(px, j, 4);
                    Vector256<float> dyv = vyi - Avx2.GatherVector256(py, j, 4);
                    Vector256<float> d2 = one + dx * dx + dyv * dyv;
                    Vector256<float> dz = Vector256<float>.Zero;
                    if (three)
                    {
                        dz = vzi - Avx2.GatherVector256(pz, j, 4);
                        d2 += dz * dz;
                    }

                    Vector256<float> w = Avx.LoadVector256(pv + e) / d2;
                    sx += w * dx;
                    sy += w * dyv;
                    sz += w * dz;
                }

                ax = Vector256.Sum(sx);
                ay = Vector256.Sum(sy);
                az = Vector256.Sum(sz);
            }
        }

        for (; e < end; e++)
        {
            int j = _p.Columns[e];
            float dx = xi - xs[j], dyv = yi - ys[j], dz = three ? zi - zs[j] : 0;
            float w = _values[e] / (1 + dx * dx + dyv * dyv + dz * dz);
            ax += w * dx;
            ay += w * dyv;
            az += w * dz;
        }

        attract[0] = ax;
        attract[1] = ay;
        attract[2] = az;
    }
}
