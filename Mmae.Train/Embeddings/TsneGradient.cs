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
internal sealed class BarnesHutTsneGradient<TDims> : TsneGradient
    where TDims : struct, ISpaceDims
{
    private const int ChunkSize = 256;

    private readonly SparseMatrix _p;
    private readonly double _theta;
    private readonly BarnesHutTree<TDims> _tree;
    private readonly double[] _repulsion;

    public BarnesHutTsneGradient(SparseMatrix p, double theta, int threads)
        : base(p.Size, TDims.Count, threads)
    {
        _p = p;
        _theta = theta;
        _tree = new BarnesHutTree<TDims>(p.Size);
        _repulsion = new double[p.Size * TDims.Count];
    }

    public override void Compute(double[] y, double exaggeration, double[] dy)
    {
        _tree.Build(y);
        double inverseZ = 1 / _tree.Repulsion(_theta, _repulsion, Parallel);
        int n = Count;
        int l = TDims.Count;
        int[] rowStart = _p.RowStart;
        int[] columns = _p.Columns;
        double[] values = _p.Values;
        System.Threading.Tasks.Parallel.For(0, (n + ChunkSize - 1) / ChunkSize, Parallel, chunk =>
        {
            int end = Math.Min(n, (chunk + 1) * ChunkSize);
            for (int i = chunk * ChunkSize; i < end; i++)
            {
                double ax = 0, ay = 0, az = 0;
                double yx = y[i * l], yy = y[i * l + 1], yz = l == 3 ? y[i * l + 2] : 0;
                for (int e = rowStart[i]; e < rowStart[i + 1]; e++)
                {
                    int j = columns[e];
                    double dx = yx - y[j * l], dyy = yy - y[j * l + 1];
                    double dz = l == 3 ? yz - y[j * l + 2] : 0;
                    double pw = values[e] / (1 + dx * dx + dyy * dyy + dz * dz);
                    ax += pw * dx;
                    ay += pw * dyy;
                    az += pw * dz;
                }

                dy[i * l] = 4 * (exaggeration * ax - _repulsion[i * l] * inverseZ);
                dy[i * l + 1] = 4 * (exaggeration * ay - _repulsion[i * l + 1] * inverseZ);
                if (l == 3)
                {
                    dy[i * l + 2] = 4 * (exaggeration * az - _repulsion[i * l + 2] * inverseZ);
                }
            }
        });
    }
}
