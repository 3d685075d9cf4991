using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Mmae.Train.Embeddings;

/// <summary>
/// Eigen-decomposition A = V^T diag(λ) V of a real symmetric matrix: Householder reduction to
/// tridiagonal form, then implicit QL iterations with a Wilkinson shift.
/// </summary>
/// <remarks>
/// n = matrix size. Storage is row-major and dense; the eigenvectors are kept as the rows of
/// V, so every Householder and Givens update runs along contiguous rows. Cost is about
/// (10/3) n³ flops for the reduction and its accumulation plus about 3 n³ for the QL sweeps;
/// rows are split over threads. Each eigenvector's sign is fixed so that its largest-magnitude
/// entry (first one on ties) is positive, so results do not depend on thread timing.
/// </remarks>
public sealed class SymmetricEigen
{
    // A QL iteration for one eigenvalue normally converges in 2-3 sweeps; 60 is a wide safety
    // margin against an endless loop, not a limit finite input has been seen to reach.
    private const int MaxSweepsPerEigenvalue = 60;

    // An off-diagonal entry is treated as zero once it is below this times the matrix norm
    // (or times its two diagonal neighbours): the double rounding unit, so dropping it moves
    // eigenvalues by no more than rounding already did. The norm-relative test matters for
    // clusters of near-zero eigenvalues (rank-deficient covariances), where the purely local
    // test converges only linearly.
    private const double DeflationTolerance = 2.220446049250313e-16;

    // Inputs are symmetric to rounding when built by mirroring; this relative slack admits
    // matrices assembled in a different order while still catching a wrong layout.
    private const double SymmetryTolerance = 1e-9;

    // Below this much work (elements touched), a parallel loop costs more than it saves.
    private const int ParallelThreshold = 1 << 15;

    private SymmetricEigen(int size, double[] values, double[] vectors)
    {
        Size = size;
        Values = values;
        Vectors = vectors;
    }

    /// <summary>Matrix size n.</summary>
    public int Size { get; }

    /// <summary>The n eigenvalues, largest first.</summary>
    public double[] Values { get; }

    /// <summary>n × n, row-major: row r is the unit eigenvector for
    /// <see cref="Values"/>[r].</summary>
    public double[] Vectors { get; }

    /// <summary>Decomposes the symmetric n × n matrix <paramref name="matrix"/>.</summary>
    /// <param name="matrix">n × n values, row-major; not modified.</param>
    /// <param name="n">Matrix size, at least 1.</param>
    /// <returns>Eigenvalues in descending order (ties keep their QL order) and
    /// eigenvectors.</returns>
    /// <exception cref="ArgumentException">Length is not n × n, a value is not finite, or the
    /// matrix is not symmetric to a relative tolerance of 1e-9.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is below 1.</exception>
    /// <exception cref="InvalidOperationException">QL did not converge (not seen for finite
    /// symmetric input).</exception>
    public static SymmetricEigen Decompose(double[] matrix, int n)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        Validate(matrix, n);
        double[] a = (double[])matrix.Clone();
        double[] diag = new double[n];
        double[] off = new double[n];
        double[] betas = new double[n];
        Tridiagonalise(a, n, diag, off, betas);
        double[] vt = AccumulateTransposedQ(a, n, betas);
        RunQl(diag, off, vt, n);
        return Sorted(diag, vt, n);
    }

    private static void Validate(double[] matrix, int n)
    {
        if (n < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(n),
                $"SymmetricEigen.Decompose: n must be at least 1, got {n}.");
        }

        if (matrix.LongLength != (long)n * n)
        {
            throw new ArgumentException(
                $"SymmetricEigen.Decompose: expected {(long)n * n} values ({n} x {n}), "
                + $"got {matrix.LongLength}.", nameof(matrix));
        }

        double maxAbs = 0;
        for (int i = 0; i < matrix.Length; i++)
        {
            if (!double.IsFinite(matrix[i]))
            {
                throw new ArgumentException(
                    $"SymmetricEigen.Decompose: matrix[{i}] is {matrix[i]}; values must be "
                    + "finite.", nameof(matrix));
            }

            maxAbs = Math.Max(maxAbs, Math.Abs(matrix[i]));
        }

        for (int i = 0; i < n; i++)
        {
            for (int j = i + 1; j < n; j++)
            {
                double gap = Math.Abs(matrix[i * n + j] - matrix[j * n + i]);
                if (gap > SymmetryTolerance * maxAbs)
                {
                    throw new ArgumentException(
                        $"SymmetricEigen.Decompose: matrix is not symmetric: [{i},{j}] = "
                        + $"{matrix[i * n + j]} but [{j},{i}] = {matrix[j * n + i]}.",
                        nameof(matrix));
                }
            }
        }
    }

    // Step k reflects row k's tail x = a[k, k+1..] onto alpha * e1 with H = I - beta v v^T and
    // applies H S H to the trailing block S = a[k+1.., k+1..] as a rank-2 update:
    // p = beta S v, w = p - (beta/2)(v^T p) v, S -= v w^T + w v^T.
    // v is left in a[k, k+1..] for the accumulation of Q.
    private static void Tridiagonalise(double[] a, int n, double[] diag, double[] off,
        double[] betas)
    {
        double[] p = new double[n];
        for (int k = 0; k < n - 2; k++)
        {
            int start = k + 1;
            int m = n - start;
            Span<double> v = a.AsSpan(k * n + start, m);
            double norm = Math.Sqrt(Dot(v, v));
            diag[k] = a[k * n + k];
            if (norm == 0)
            {
                off[k] = 0;
                betas[k] = 0;
                continue;
            }

            double x0 = v[0];
            double alpha = x0 >= 0 ? -norm : norm;
            v[0] = x0 - alpha;
            double beta = 1.0 / (norm * (norm + Math.Abs(x0)));
            off[k] = alpha;
            betas[k] = beta;

            double[] local = a;
            int row0 = k;
            ForRows(start, n, m, i =>
            {
                ReadOnlySpan<double> vv = local.AsSpan(row0 * n + start, m);
                p[i] = beta * Dot(local.AsSpan(i * n + start, m), vv);
            });

            double half = 0.5 * beta * Dot(v, p.AsSpan(start, m));
            for (int i = start; i < n; i++)
            {
                p[i] -= half * v[i - start];
            }

            ForRows(start, n, m, i =>
            {
                ReadOnlySpan<double> vv = local.AsSpan(row0 * n + start, m);
                ReadOnlySpan<double> w = p.AsSpan(start, m);
                Span<double> row = local.AsSpan(i * n + start, m);
                AddScaled(row, -vv[i - start], w);
                AddScaled(row, -w[i - start], vv);
            });
        }

        if (n >= 2)
        {
            diag[n - 2] = a[(n - 2) * n + n - 2];
            off[n - 2] = a[(n - 2) * n + n - 1];
        }

        diag[n - 1] = a[(n - 1) * n + n - 1];
        off[n - 1] = 0;
    }

    // Q = H_0 H_1 ... H_{n-3}; we build Q^T = H_{n-3} ... H_0 by right-multiplying the identity
    // with H_{n-3}, then H_{n-4}, and so on. Right-multiplying by H_k only changes columns
    // k+1.. of rows k+1.., one dot and one axpy per row: row -= beta (row . v) v.
    private static double[] AccumulateTransposedQ(double[] a, int n, double[] betas)
    {
        double[] qt = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            qt[i * n + i] = 1;
        }

        for (int k = n - 3; k >= 0; k--)
        {
            double beta = betas[k];
            if (beta == 0)
            {
                continue;
            }

            int start = k + 1;
            int m = n - start;
            int row0 = k;
            ForRows(start, n, m, i =>
            {
                ReadOnlySpan<double> v = a.AsSpan(row0 * n + start, m);
                Span<double> row = qt.AsSpan(i * n + start, m);
                AddScaled(row, -beta * Dot(row, v), v);
            });
        }

        return qt;
    }

    // Implicit QL on the tridiagonal (diag, off), off[i] coupling i and i+1. Each sweep on the
    // unreduced block l..m chases a bulge upward with Givens rotations; rotation i mixes
    // eigenvector rows i and i+1 of vt. A sweep's rotations are recorded, then applied to
    // vt in column slices on several threads: slices are independent.
    private static void RunQl(double[] diag, double[] off, double[] vt, int n)
    {
        double[] cosines = new double[n];
        double[] sines = new double[n];
        double norm = 0;
        for (int i = 0; i < n; i++)
        {
            norm = Math.Max(norm, Math.Abs(diag[i]) + Math.Abs(off[i]));
        }

        double globalFloor = DeflationTolerance * norm;
        for (int l = 0; l < n; l++)
        {
            int sweeps = 0;
            while (true)
            {
                int m = l;
                while (m < n - 1)
                {
                    double scale = Math.Abs(diag[m]) + Math.Abs(diag[m + 1]);
                    double e = Math.Abs(off[m]);
                    if (e <= DeflationTolerance * scale || e <= globalFloor)
                    {
                        break;
                    }

                    m++;
                }

                if (m == l)
                {
                    break;
                }

                if (++sweeps > MaxSweepsPerEigenvalue)
                {
                    throw new InvalidOperationException(
                        $"SymmetricEigen: QL did not converge for eigenvalue {l} of {n} after "
                        + $"{MaxSweepsPerEigenvalue} sweeps.");
                }

                // Shift: the eigenvalue of the leading 2x2 block nearer to diag[l].
                double g = (diag[l + 1] - diag[l]) / (2.0 * off[l]);
                double r = Hypot(g, 1.0);
                g = diag[m] - diag[l] + off[l] / (g + (g >= 0 ? r : -r));
                double s = 1;
                double c = 1;
                double p = 0;
                bool split = false;
                int i = m - 1;
                for (; i >= l; i--)
                {
                    double f = s * off[i];
                    double b = c * off[i];
                    r = Hypot(f, g);
                    off[i + 1] = r;
                    if (r == 0)
                    {
                        // The bulge vanished: the block splits here; redo the search.
                        diag[i + 1] -= p;
                        off[m] = 0;
                        split = true;
                        break;
                    }

                    s = f / r;
                    c = g / r;
                    g = diag[i + 1] - p;
                    r = (diag[i] - g) * s + 2.0 * c * b;
                    p = s * r;
                    diag[i + 1] = g + p;
                    g = c * r - b;
                    cosines[i] = c;
                    sines[i] = s;
                }

                int last = split ? i + 1 : l;
                ApplyRotations(vt, n, m - 1, last, cosines, sines);
                if (split)
                {
                    continue;
                }

                diag[l] -= p;
                off[l] = g;
                off[m] = 0;
            }
        }
    }

    // For i = first down to last: row_{i+1} = s row_i + c row_{i+1}; row_i = c row_i - s row_{i+1}.
    // Along one column the new row i feeds the next rotation, so it stays in a register.
    private static void ApplyRotations(double[] vt, int n, int first, int last,
        double[] cosines, double[] sines)
    {
        int count = first - last + 1;
        if (count <= 0)
        {
            return;
        }

        int width = Vector<double>.Count;
        int vectors = n / width;
        int slices = (long)count * n < ParallelThreshold ? 1 : Environment.ProcessorCount;
        slices = Math.Max(1, Math.Min(slices, vectors));
        if (slices == 1)
        {
            RotateSlice(vt, n, 0, vectors, true, first, last, cosines, sines);
            return;
        }

        Parallel.For(0, slices, new ParallelOptions { MaxDegreeOfParallelism = slices }, t =>
        {
            int v0 = (int)((long)vectors * t / slices);
            int v1 = (int)((long)vectors * (t + 1) / slices);
            RotateSlice(vt, n, v0, v1, t == slices - 1, first, last, cosines, sines);
        });
    }

    private static void RotateSlice(double[] vt, int n, int v0, int v1, bool withTail,
        int first, int last, double[] cosines, double[] sines)
    {
        int width = Vector<double>.Count;
        for (int vec = v0; vec < v1; vec++)
        {
            RotateColumnsVector(vt, n, vec * width, first, last, cosines, sines);
        }

        if (withTail)
        {
            for (int j = n / width * width; j < n; j++)
            {
                RotateColumnScalar(vt, n, j, first, last, cosines, sines);
            }
        }
    }

    // Hot loop: JIT it fully optimised at once; a one-shot CLI run would otherwise spend
    // much of its time in tier-0 code before tiering up.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RotateColumnsVector(double[] vt, int n, int j, int first, int last,
        double[] cosines, double[] sines)
    {
        Span<double> all = vt;
        Vector<double> carry = new(all.Slice((first + 1) * n + j));
        for (int i = first; i >= last; i--)
        {
            Vector<double> rowI = new(all.Slice(i * n + j));
            Vector<double> c = new(cosines[i]);
            Vector<double> s = new(sines[i]);
            (s * rowI + c * carry).CopyTo(all.Slice((i + 1) * n + j));
            carry = c * rowI - s * carry;
        }

        carry.CopyTo(all.Slice(last * n + j));
    }

    private static void RotateColumnScalar(double[] vt, int n, int j, int first, int last,
        double[] cosines, double[] sines)
    {
        double carry = vt[(first + 1) * n + j];
        for (int i = first; i >= last; i--)
        {
            double rowI = vt[i * n + j];
            vt[(i + 1) * n + j] = sines[i] * rowI + cosines[i] * carry;
            carry = cosines[i] * rowI - sines[i] * carry;
        }

        vt[last * n + j] = carry;
    }

    private static SymmetricEigen Sorted(double[] diag, double[] vt, int n)
    {
        int[] order = new int[n];
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
        }

        // Descending by value; equal values keep their index order so the result is stable.
        Array.Sort(order, (x, y) =>
        {
            int byValue = diag[y].CompareTo(diag[x]);
            return byValue != 0 ? byValue : x.CompareTo(y);
        });

        double[] values = new double[n];
        double[] vectors = new double[n * n];
        for (int r = 0; r < n; r++)
        {
            values[r] = diag[order[r]];
            Span<double> dst = vectors.AsSpan(r * n, n);
            vt.AsSpan(order[r] * n, n).CopyTo(dst);
            FixSign(dst);
        }

        return new SymmetricEigen(n, values, vectors);
    }

    /// <summary>Flips <paramref name="vector"/> so its largest-magnitude entry (first on ties)
    /// is positive.</summary>
    internal static void FixSign(Span<double> vector)
    {
        int best = 0;
        for (int j = 1; j < vector.Length; j++)
        {
            if (Math.Abs(vector[j]) > Math.Abs(vector[best]))
            {
                best = j;
            }
        }

        if (vector[best] < 0)
        {
            foreach (ref double x in vector)
            {
                x = -x;
            }
        }
    }

    // sqrt(x^2 + y^2) without overflow for large entries.
    private static double Hypot(double x, double y)
    {
        double ax = Math.Abs(x);
        double ay = Math.Abs(y);
        double big = Math.Max(ax, ay);
        if (big == 0)
        {
            return 0;
        }

        double small = Math.Min(ax, ay) / big;
        return big * Math.Sqrt(1 + small * small);
    }

    private static void ForRows(int begin, int end, int rowLength, Action<int> body)
    {
        if ((long)(end - begin) * rowLength < ParallelThreshold)
        {
            for (int i = begin; i < end; i++)
            {
                body(i);
            }

            return;
        }

        Parallel.For(begin, end, body);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        int width = Vector<double>.Count;
        ReadOnlySpan<Vector<double>> xv = MemoryMarshal.Cast<double, Vector<double>>(x);
        ReadOnlySpan<Vector<double>> yv = MemoryMarshal.Cast<double, Vector<double>>(
            y.Slice(0, x.Length));
        Vector<double> acc0 = Vector<double>.Zero;
        Vector<double> acc1 = Vector<double>.Zero;
        int k = 0;
        for (; k + 1 < xv.Length; k += 2)
        {
            acc0 += xv[k] * yv[k];
            acc1 += xv[k + 1] * yv[k + 1];
        }

        if (k < xv.Length)
        {
            acc0 += xv[k] * yv[k];
        }

        double sum = Vector.Sum(acc0 + acc1);
        for (int j = xv.Length * width; j < x.Length; j++)
        {
            sum += x[j] * y[j];
        }

        return sum;
    }

    // y += alpha x
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void AddScaled(Span<double> y, double alpha, ReadOnlySpan<double> x)
    {
        int width = Vector<double>.Count;
        Span<Vector<double>> yv = MemoryMarshal.Cast<double, Vector<double>>(y);
        ReadOnlySpan<Vector<double>> xv = MemoryMarshal.Cast<double, Vector<double>>(
            x.Slice(0, y.Length));
        Vector<double> a = new(alpha);
        for (int k = 0; k < yv.Length; k++)
        {
            yv[k] += a * xv[k];
        }

        for (int j = yv.Length * width; j < y.Length; j++)
        {
            y[j] += alpha * x[j];
        }
    }
}
