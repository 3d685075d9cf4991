using Mmae.Engine;

namespace Mmae.Train.Embeddings;

/// <summary>
/// Spectral embedding of a weighted graph: the eigenvectors of the normalised Laplacian with
/// the smallest non-zero eigenvalues, UMAP's starting layout.
/// </summary>
/// <remarks>
/// <para>n = vertices, L = dims, b = block size. With degrees g_i = Σ_j w_ij and
/// M = G^−½ W G^−½, the normalised Laplacian is I − M, so its smallest eigenvalues belong to
/// the largest of M. The top one, 1 with vector √g, is the trivial one and is projected out.
/// Block subspace iteration on (I + M) / 2, whose spectrum lies in [0, 1], finds the next
/// L: b = L + 8 vectors are multiplied <see cref="StepsPerRotation"/> times, orthonormalised
/// (Gram-Schmidt, twice) and rotated onto the Ritz vectors of the small projected matrix; it stops when the L Ritz
/// values change by less than 1e-6 or after <see cref="MaxRotations"/> rotations.</para>
/// <para>Limitation: on a graph with several connected components, more than one eigenvalue
/// equals 1, so the leading vectors mostly tell the components apart (the layout places
/// them apart; within-component structure comes from the optimisation). The cost is O(b² n)
/// per rotation, so large L (tens of dimensions) makes it the slowest part of UMAP's start.
/// </para>
/// </remarks>
public static class SpectralLayout
{
    /// <summary>Extra vectors beyond L in the block; they speed convergence.</summary>
    public const int ExtraVectors = 8;

    /// <summary>Matrix products between orthonormalisations.</summary>
    public const int StepsPerRotation = 4;

    /// <summary>Most Rayleigh-Ritz rotations.</summary>
    public const int MaxRotations = 150;

    private const double RitzTolerance = 1e-6;

    /// <summary>The L leading non-trivial eigenvectors as n × L coordinates.</summary>
    /// <param name="w">Symmetric non-negative weights.</param>
    /// <param name="dims">L, at least 1 and below n − 1.</param>
    /// <param name="seed">Seed of the random starting block.</param>
    /// <param name="threads">Compute threads; 0 means every core.</param>
    /// <returns>n × L coordinates (unit columns), or null when n is too small for L.</returns>
    public static double[]? Embed(SparseMatrix w, int dims, int seed, int threads)
    {
        ArgumentNullException.ThrowIfNull(w);
        int n = w.Size;
        int b = Math.Min(dims + ExtraVectors, n - 1);
        if (dims < 1 || b < dims)
        {
            return null;
        }

        double[] scale = new double[n];
        double[] trivial = new double[n];
        for (int i = 0; i < n; i++)
        {
            double g = 0;
            for (int e = w.RowStart[i]; e < w.RowStart[i + 1]; e++)
            {
                g += w.Values[e];
            }

            scale[i] = g > 0 ? 1 / Math.Sqrt(g) : 0;
            trivial[i] = Math.Sqrt(g);
        }

        Normalise(trivial);

        // v: (b, n), one vector per row, so each is contiguous.
        var rng = new Rng((ulong)seed ^ 0x5DEECE66DUL);
        double[] v = new double[b * n];
        for (int e = 0; e < v.Length; e++)
        {
            v[e] = rng.NextGaussian();
        }

        double[] next = new double[b * n];
        double[] ritz = new double[b];
        var products = new Products(w, scale, b, RowMath.Parallelism(threads));
        Orthonormalise(v, b, n, trivial);
        for (int rotation = 0; rotation < MaxRotations; rotation++)
        {
            products.Apply(v, next, StepsPerRotation);
            (v, next) = (next, v);

            // Twice: one Gram-Schmidt pass leaves rounding-level overlaps once the vectors have
            // been drawn close together by the products.
            Orthonormalise(v, b, n, trivial);
            Orthonormalise(v, b, n, trivial);
            double change = RayleighRitz(products, ref v, ref next, b, n, ritz, dims);
            if (change < RitzTolerance)
            {
                break;
            }
        }

        double[] y = new double[n * dims];
        for (int i = 0; i < n; i++)
        {
            for (int c = 0; c < dims; c++)
            {
                y[i * dims + c] = v[c * n + i];
            }
        }

        return y;
    }

    // Applies A = (I + M) / 2, M = G^−½ W G^−½, to a block of b vectors. The products run on
    // the block transposed to (n, b), so each stored weight multiplies b contiguous values and
    // the graph is read once per product, not once per vector.
    private sealed class Products(SparseMatrix w, double[] scale, int b, ParallelOptions parallel)
    {
        private const int RowsPerChunk = 256;

        private readonly double[] _a = new double[w.Size * b];

        public ParallelOptions Parallelism => parallel;

        private readonly double[] _b = new double[w.Size * b];

        // dst = A^steps x, both (b, n).
        public void Apply(double[] x, double[] dst, int steps)
        {
            int n = w.Size;
            Transpose(x, _a, b, n);
            for (int s = 0; s < steps; s++)
            {
                Multiply(s % 2 == 0 ? _a : _b, s % 2 == 0 ? _b : _a);
            }

            Transpose(steps % 2 == 0 ? _a : _b, dst, n, b);
        }

        private void Multiply(double[] xt, double[] dt)
        {
            int n = w.Size;
            Parallel.For(0, (n + RowsPerChunk - 1) / RowsPerChunk, parallel, chunk =>
            {
                Span<double> sum = stackalloc double[b];
                int end = Math.Min(n, (chunk + 1) * RowsPerChunk);
                for (int i = chunk * RowsPerChunk; i < end; i++)
                {
                    sum.Clear();
                    for (int e = w.RowStart[i]; e < w.RowStart[i + 1]; e++)
                    {
                        int j = w.Columns[e];
                        double c = w.Values[e] * scale[j];
                        ReadOnlySpan<double> xj = xt.AsSpan(j * b, b);
                        for (int r = 0; r < b; r++)
                        {
                            sum[r] += c * xj[r];
                        }
                    }

                    for (int r = 0; r < b; r++)
                    {
                        dt[i * b + r] = 0.5 * (xt[i * b + r] + scale[i] * sum[r]);
                    }
                }
            });
        }

        // dst (cols, rows) = src (rows, cols) transposed.
        private static void Transpose(double[] src, double[] dst, int rows, int cols)
        {
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < cols; c++)
                {
                    dst[c * rows + r] = src[r * cols + c];
                }
            }
        }
    }

    // Rotates the orthonormal block onto the Ritz vectors of H = Vᵀ A V, largest first, and
    // returns the largest change of the leading `dims` Ritz values.
    private static double RayleighRitz(Products products, ref double[] v, ref double[] av, int b, int n,
        double[] ritz, int dims)
    {
        products.Apply(v, av, 1);
        double[] h = new double[b * b];
        for (int r = 0; r < b; r++)
        {
            for (int c = r; c < b; c++)
            {
                double dot = 0.5 * (Dot(v.AsSpan(r * n, n), av.AsSpan(c * n, n))
                    + Dot(v.AsSpan(c * n, n), av.AsSpan(r * n, n)));
                h[r * b + c] = dot;
                h[c * b + r] = dot;
            }
        }

        SymmetricEigen eigen = SymmetricEigen.Decompose(h, b);
        double change = 0;
        for (int c = 0; c < dims; c++)
        {
            change = Math.Max(change, Math.Abs(eigen.Values[c] - ritz[c]));
        }

        eigen.Values.CopyTo(ritz, 0);
        double[] rotated = av;
        Array.Clear(rotated);
        double[] basis = v;
        Parallel.For(0, b, products.Parallelism, c =>
        {
            Span<double> dst = rotated.AsSpan(c * n, n);
            for (int r = 0; r < b; r++)
            {
                double coefficient = eigen.Vectors[c * b + r];
                ReadOnlySpan<double> src = basis.AsSpan(r * n, n);
                for (int i = 0; i < n; i++)
                {
                    dst[i] += coefficient * src[i];
                }
            }
        });
        (v, av) = (rotated, basis);
        return change;
    }

    // Modified Gram-Schmidt on the rows of v, each first made orthogonal to `trivial`; a row
    // that vanishes (rank loss) is replaced by a fixed pseudo-random vector and redone.
    private static void Orthonormalise(double[] v, int b, int n, double[] trivial)
    {
        for (int r = 0; r < b; r++)
        {
            Span<double> row = v.AsSpan(r * n, n);
            for (int attempt = 0; ; attempt++)
            {
                Project(row, trivial);
                for (int q = 0; q < r; q++)
                {
                    Project(row, v.AsSpan(q * n, n));
                }

                if (Normalise(row) || attempt > 2)
                {
                    break;
                }

                for (int i = 0; i < n; i++)
                {
                    row[i] = RowMath.UnitInterval(((ulong)r << 40) ^ ((ulong)attempt << 32) ^ (ulong)i) - 0.5;
                }
            }
        }
    }

    private static void Project(Span<double> row, ReadOnlySpan<double> unit)
    {
        double dot = Dot(row, unit);
        for (int i = 0; i < row.Length; i++)
        {
            row[i] -= dot * unit[i];
        }
    }

    private static bool Normalise(Span<double> row)
    {
        double norm = Math.Sqrt(Dot(row, row));
        if (!(norm > 1e-300))
        {
            return false;
        }

        for (int i = 0; i < row.Length; i++)
        {
            row[i] /= norm;
        }

        return true;
    }

    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }
}
