using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Mmae.Train.Embeddings;

/// <summary>
/// Principal component analysis by eigen-decomposition of the sample covariance matrix.
/// </summary>
/// <remarks>
/// n = samples, d = features, k = components; x: (n, d) row-major float, mean: (d),
/// components: (k, d). The covariance (d, d) is accumulated in double on all cores and
/// divided by n − 1 (by 1 when n = 1), as NumPy and scikit-learn do. Each component's
/// largest-magnitude coefficient is positive, and the thread split never changes the summation
/// order, so a fit is reproducible bit for bit on a given machine (a different SIMD width
/// changes the order and so the last bits).
/// Memory is O(d²) beyond the input; time is O(n d²) for the covariance plus O(d³) for the
/// eigensolver, which is why this suits d up to a few thousand.
/// </remarks>
public sealed class Pca
{
    // Samples per covariance panel: 256 centred doubles per feature row is 2 KiB, so a panel
    // of 784 features (1.6 MiB) stays near the per-core L2 while rows are reused.
    private const int PanelSamples = 256;

    // Feature rows per register block in the covariance kernel: a 4 x 2 tile keeps
    // 8 accumulators and 5 operands in the 16 vector registers of AVX2.
    private const int TileRows = 4;
    private const int TileCols = 2;

    private Pca(int dim, double[] mean, double[] components, double[] explainedVariance)
    {
        Dim = dim;
        Mean = mean;
        Components = components;
        ExplainedVariance = explainedVariance;
    }

    /// <summary>Feature count d the model was fitted on.</summary>
    public int Dim { get; }

    /// <summary>Number of components k.</summary>
    public int ComponentCount => ExplainedVariance.Length;

    /// <summary>Per-feature mean of the training data (length d).</summary>
    public double[] Mean { get; }

    /// <summary>k × d, row-major: row c is the unit direction of component c.</summary>
    public double[] Components { get; }

    /// <summary>Variance along each component (covariance eigenvalues), largest first.</summary>
    /// <remarks>Tiny negative eigenvalues from rounding are reported as 0.</remarks>
    public double[] ExplainedVariance { get; }

    /// <summary>Fits the top <paramref name="components"/> principal components of
    /// <paramref name="x"/>.</summary>
    /// <param name="x">n × d samples, row-major.</param>
    /// <param name="n">Number of samples.</param>
    /// <param name="d">Features per sample.</param>
    /// <param name="components">Components to keep, in 1..min(n, d).</param>
    /// <returns>The fitted model.</returns>
    /// <exception cref="ArgumentException">x.Length is not n × d, n or d is not positive, or
    /// x holds a NaN or infinity.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="components"/> is outside
    /// 1..min(n, d).</exception>
    public static Pca Fit(float[] x, int n, int d, int components)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (n <= 0 || d <= 0)
        {
            throw new ArgumentException(
                $"Pca.Fit: n and d must be positive, got n = {n}, d = {d}.",
                n <= 0 ? nameof(n) : nameof(d));
        }

        CheckLength(x, n, d, "Pca.Fit");
        if (components < 1 || components > Math.Min(n, d))
        {
            throw new ArgumentOutOfRangeException(nameof(components),
                $"Pca.Fit: components must be in 1..min(n, d) = 1..{Math.Min(n, d)} "
                + $"(n = {n}, d = {d}), got {components}.");
        }

        CheckFinite(x, "Pca.Fit");
        double[] mean = ComputeMean(x, n, d);
        double[] covariance = ComputeCovariance(x, n, d, mean);
        double divisor = n > 1 ? n - 1 : 1;
        for (int i = 0; i < covariance.Length; i++)
        {
            covariance[i] /= divisor;
        }

        // A full decomposition costs ~4d³: minutes at d = 4,096 (64×64 images). For a few
        // leading components of a wide matrix, subspace iteration gives the same pairs.
        (double[] values, double[] directions) = UseSubspace(d, components)
            ? TopEigen.Compute(covariance, d, components)
            : Full(covariance, d, components);
        double[] variance = new double[components];
        for (int c = 0; c < components; c++)
        {
            variance[c] = Math.Max(0, values[c]);
        }

        return new Pca(d, mean, directions, variance);
    }

    /// <summary>Whether <see cref="Fit"/> finds its components by subspace iteration
    /// (<see cref="TopEigen"/>) rather than a full decomposition: wide data, few components.</summary>
    internal static bool UseSubspace(int d, int components) => d >= 1024 && components * 8 <= d;

    // SymmetricEigen already made each vector's largest entry positive.
    private static (double[] Values, double[] Vectors) Full(double[] covariance, int d, int components)
    {
        SymmetricEigen eigen = SymmetricEigen.Decompose(covariance, d);
        return (eigen.Values, eigen.Vectors.AsSpan(0, components * d).ToArray());
    }

    /// <summary>Projects samples onto the components: y = (x − Mean) Components^T.</summary>
    /// <param name="x">n × d samples, row-major, with d = <see cref="Dim"/>.</param>
    /// <param name="n">Number of samples.</param>
    /// <returns>n × k coordinates, row-major, computed in double and rounded to float.</returns>
    /// <exception cref="ArgumentException">n is negative or x.Length is not n × d.</exception>
    public float[] Transform(float[] x, int n)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (n < 0)
        {
            throw new ArgumentException($"Pca.Transform: n must be non-negative, got {n}.",
                nameof(n));
        }

        CheckLength(x, n, Dim, "Pca.Transform");
        int d = Dim;
        int k = ComponentCount;
        float[] y = new float[(long)n * k];
        Parallel.For(0, n, () => new double[d], (i, _, row) =>
        {
            for (int j = 0; j < d; j++)
            {
                row[j] = x[(long)i * d + j] - Mean[j];
            }

            for (int c = 0; c < k; c++)
            {
                y[(long)i * k + c] = (float)SymmetricEigen.Dot(row, Components.AsSpan(c * d, d));
            }

            return row;
        }, _ => { });
        return y;
    }

    private static void CheckLength(float[] x, int n, int d, string operation)
    {
        if (x.LongLength != (long)n * d)
        {
            throw new ArgumentException(
                $"{operation}: expected x of {(long)n * d} values ({n} x {d}), "
                + $"got {x.LongLength}.", nameof(x));
        }
    }

    private static void CheckFinite(float[] x, string operation)
    {
        for (long i = 0; i < x.LongLength; i++)
        {
            if (!float.IsFinite(x[i]))
            {
                throw new ArgumentException(
                    $"{operation}: x[{i}] is {x[i]}; PCA needs finite values.", nameof(x));
            }
        }
    }

    private static double[] ComputeMean(float[] x, int n, int d)
    {
        double[] mean = new double[d];
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<float> row = x.AsSpan(i * d, d);
            for (int j = 0; j < d; j++)
            {
                mean[j] += row[j];
            }
        }

        for (int j = 0; j < d; j++)
        {
            mean[j] /= n;
        }

        return mean;
    }

    // C = Xc^T Xc with Xc = x - mean, (d, d). Samples are processed in panels of
    // PanelSamples: the panel is transposed to (dPad, PanelSamples) centred doubles, zero-padded,
    // so each C entry is a contiguous dot product. Tiles of 4 x 2 feature rows are spread over
    // threads; only tiles on or above the diagonal are computed, then mirrored.
    private static double[] ComputeCovariance(float[] x, int n, int d, double[] mean)
    {
        int dPad = (d + TileRows - 1) / TileRows * TileRows;
        double[] c = new double[dPad * dPad];
        double[] panel = new double[dPad * PanelSamples];
        int rowTiles = dPad / TileRows;
        for (int i0 = 0; i0 < n; i0 += PanelSamples)
        {
            int count = Math.Min(PanelSamples, n - i0);
            FillPanel(x, d, mean, i0, count, panel);
            Parallel.For(0, rowTiles, tile =>
            {
                // Reverse order hands the long rows (small a) out first for better balance.
                int a = (rowTiles - 1 - tile) * TileRows;
                AccumulateTileRow(panel, dPad, a, c);
            });
        }

        double[] result = new double[d * d];
        for (int a = 0; a < d; a++)
        {
            for (int b = 0; b < d; b++)
            {
                result[a * d + b] = b >= a ? c[a * dPad + b] : c[b * dPad + a];
            }
        }

        return result;
    }

    // Hot loop: JIT it fully optimised at once; a one-shot CLI run would otherwise spend
    // much of its time in tier-0 code before tiering up.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FillPanel(float[] x, int d, double[] mean, int i0, int count,
        double[] panel)
    {
        Array.Clear(panel);
        for (int s = 0; s < count; s++)
        {
            ReadOnlySpan<float> row = x.AsSpan((i0 + s) * d, d);
            for (int j = 0; j < d; j++)
            {
                panel[j * PanelSamples + s] = row[j] - mean[j];
            }
        }
    }

    // Adds panel rows a..a+3 dotted with rows b, b+1 for every b >= a (in steps of 2) to c.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AccumulateTileRow(double[] panel, int dPad, int a, double[] c)
    {
        ReadOnlySpan<Vector<double>> p = MemoryMarshal.Cast<double, Vector<double>>(panel);
        int stride = PanelSamples / Vector<double>.Count;
        int a0 = a * stride;
        int a1 = a0 + stride;
        int a2 = a1 + stride;
        int a3 = a2 + stride;
        for (int b = a; b < dPad; b += TileCols)
        {
            int b0 = b * stride;
            int b1 = b0 + stride;
            Vector<double> s00 = default, s01 = default, s10 = default, s11 = default;
            Vector<double> s20 = default, s21 = default, s30 = default, s31 = default;
            for (int k = 0; k < stride; k++)
            {
                Vector<double> x0 = p[a0 + k];
                Vector<double> x1 = p[a1 + k];
                Vector<double> x2 = p[a2 + k];
                Vector<double> x3 = p[a3 + k];
                Vector<double> y = p[b0 + k];
                s00 += x0 * y;
                s10 += x1 * y;
                s20 += x2 * y;
                s30 += x3 * y;
                y = p[b1 + k];
                s01 += x0 * y;
                s11 += x1 * y;
                s21 += x2 * y;
                s31 += x3 * y;
            }

            c[a * dPad + b] += Vector.Sum(s00);
            c[a * dPad + b + 1] += Vector.Sum(s01);
            c[(a + 1) * dPad + b] += Vector.Sum(s10);
            c[(a + 1) * dPad + b + 1] += Vector.Sum(s11);
            c[(a + 2) * dPad + b] += Vector.Sum(s20);
            c[(a + 2) * dPad + b + 1] += Vector.Sum(s21);
            c[(a + 3) * dPad + b] += Vector.Sum(s30);
            c[(a + 3) * dPad + b + 1] += Vector.Sum(s31);
        }
    }
}
