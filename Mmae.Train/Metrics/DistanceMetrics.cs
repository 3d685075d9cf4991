namespace Mmae.Train.Metrics;

/// <summary>KL_σ between the input- and latent-space density estimates at one σ.</summary>
/// <param name="Sigma">Kernel width σ, in squared normalised distance units.</param>
/// <param name="Divergence">KL(f_X ‖ f_Z), 0 when the densities agree.</param>
public sealed record DensityKl(double Sigma, double Divergence);

/// <summary>The global distance scores of an embedding.</summary>
/// <param name="Rmse">RMSE between the normalised distance matrices.</param>
/// <param name="Kl">KL_σ for every σ asked for, in the order asked.</param>
public sealed record DistanceScores(double Rmse, IReadOnlyList<DensityKl> Kl);

/// <summary>
/// How well an embedding keeps the global distance structure: the RMSE between the normalised
/// distance matrices of input and latent space, and the KL divergence between density
/// estimates built from them (KL_σ, as Moor et al. evaluate topological autoencoders).
/// </summary>
/// <remarks>
/// <para>n = points; high: (n, D), low: (n, d), row-major. Distances are Euclidean, computed in
/// double, and each space's are divided by their maximum: d̂_X(i, j) = |x_i − x_j| / max |x_a −
/// x_b| and likewise d̂_Z, so both lie in [0, 1] and the scale of either space drops out.</para>
/// <para>RMSE = sqrt((1 / n²) Σ_{i,j} (d̂_X(i, j) − d̂_Z(i, j))²), over all n² ordered pairs
/// (the zero diagonal included).</para>
/// <para>f_σ,X(i) = Σ_j exp(−d̂_X(i, j)² / σ) / Σ_a Σ_j exp(−d̂_X(a, j)² / σ), with j = i
/// included, and f_σ,Z the same in the embedding; KL_σ = Σ_i f_σ,X(i) ln(f_σ,X(i) / f_σ,Z(i)).
/// Small σ looks at local density, large σ at the global spread; at σ = 1 it is usually
/// tiny.</para>
/// <para>Two passes over all pairs (one for the maxima, one for the sums); time O(n² (D + d)),
/// memory O(n) per thread plus O(n) per σ. Per-row partial sums are added in row order, so
/// results do not depend on the thread count.</para>
/// </remarks>
public static class DistanceMetrics
{
    private const string Op = "DistanceMetrics.Compute";

    /// <summary>Computes the distance RMSE and KL_σ for every σ in <paramref name="sigmas"/>.
    /// </summary>
    /// <param name="high">n × highDim input-space points, row-major.</param>
    /// <param name="highDim">Input dimension.</param>
    /// <param name="low">n × lowDim embedded points, row-major, same order as high.</param>
    /// <param name="lowDim">Embedding dimension.</param>
    /// <param name="n">Number of points, at least 2.</param>
    /// <param name="sigmas">Kernel widths for KL_σ, each finite and positive; may be empty.
    /// </param>
    /// <param name="threads">Compute threads; 0 means every core.</param>
    /// <exception cref="ArgumentException">A dimension is not positive, an array length is not
    /// n × dim, a value is not finite, or all points of one space coincide (no distance to
    /// normalise by).</exception>
    /// <exception cref="ArgumentOutOfRangeException">n is below 2, or some σ is not finite
    /// and positive.</exception>
    public static DistanceScores Compute(
        float[] high,
        int highDim,
        float[] low,
        int lowDim,
        int n,
        IReadOnlyList<double> sigmas,
        int threads = 0)
    {
        Validate(high, highDim, low, lowDim, n, sigmas);
        double[] highD = PairwiseRows.ToDouble(high);
        double[] lowD = PairwiseRows.ToDouble(low);
        double[] rowMax = new double[2 * n];
        PairwiseRows.ForEachRow(highD, highDim, lowD, lowDim, n, threads, () => 0,
            (i, highSq, lowSq, _) =>
            {
                rowMax[2 * i] = Max(highSq);
                rowMax[2 * i + 1] = Max(lowSq);
            }, _ => { });

        double maxHighSq = 0;
        double maxLowSq = 0;
        for (int i = 0; i < n; i++)
        {
            maxHighSq = Math.Max(maxHighSq, rowMax[2 * i]);
            maxLowSq = Math.Max(maxLowSq, rowMax[2 * i + 1]);
        }

        return Run(highD, highDim, lowD, lowDim, n, sigmas, maxHighSq, maxLowSq, threads);
    }

    internal static void Validate(float[] high, int highDim, float[] low, int lowDim, int n,
        IReadOnlyList<double> sigmas)
    {
        ArgumentNullException.ThrowIfNull(sigmas);
        if (n < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(n),
                $"{Op}: n must be at least 2 (one distance), got {n}.");
        }

        PairwiseRows.CheckPoints(Op, high, highDim, n, nameof(high));
        PairwiseRows.CheckPoints(Op, low, lowDim, n, nameof(low));
        foreach (double sigma in sigmas)
        {
            if (!double.IsFinite(sigma) || sigma <= 0)
            {
                throw new ArgumentOutOfRangeException(nameof(sigmas),
                    $"{Op}: sigma = {sigma} must be finite and positive (e.g. 0.01, 0.1, 1).");
            }
        }
    }

    /// <summary>The sums pass, given the largest squared distance of each space.</summary>
    /// <exception cref="ArgumentException">A maximum is 0: all points of that space coincide.
    /// </exception>
    internal static DistanceScores Run(
        double[] high,
        int highDim,
        double[] low,
        int lowDim,
        int n,
        IReadOnlyList<double> sigmas,
        double maxHighSq,
        double maxLowSq,
        int threads,
        HighDistanceCache? highCache = null)
    {
        if (maxHighSq <= 0 || maxLowSq <= 0)
        {
            string name = maxHighSq <= 0 ? "high" : "low";
            throw new ArgumentException(
                $"{Op}: all {n} points of {name} coincide, so distances cannot be normalised by "
                + "their maximum.", name);
        }

        // Per row: the squared-error sum, then the density sums of each space for each σ,
        // (n, 1 + 2 s); added in row order below.
        int s = sigmas.Count;
        int stride = 1 + 2 * s;
        double[] rows = new double[n * stride];
        double scaleHigh = 1.0 / Math.Sqrt(maxHighSq);
        double scaleLow = 1.0 / Math.Sqrt(maxLowSq);
        double[] inverseSigmas = sigmas.Select(sigma => 1.0 / sigma).ToArray();
        PairwiseRows.ForEachRow(high, highDim, low, lowDim, n, threads, () => 0,
            (i, highSq, lowSq, _) =>
            {
                Span<double> row = rows.AsSpan(i * stride, stride);
                for (int j = 0; j < n; j++)
                {
                    double dh = Math.Sqrt(highSq[j]) * scaleHigh;
                    double dl = Math.Sqrt(lowSq[j]) * scaleLow;
                    row[0] += (dh - dl) * (dh - dl);
                    for (int q = 0; q < s; q++)
                    {
                        row[1 + q] += Math.Exp(-dh * dh * inverseSigmas[q]);
                        row[1 + s + q] += Math.Exp(-dl * dl * inverseSigmas[q]);
                    }
                }
            }, _ => { }, highCache);

        double squares = 0;
        for (int i = 0; i < n; i++)
        {
            squares += rows[i * stride];
        }

        var kl = new DensityKl[s];
        for (int q = 0; q < s; q++)
        {
            kl[q] = new DensityKl(sigmas[q], Divergence(rows, n, stride, 1 + q, 1 + s + q));
        }

        return new DistanceScores(Math.Sqrt(squares / ((double)n * n)), kl);
    }

    // KL(p ‖ q) with p_i ∝ rows[i, pc], q_i ∝ rows[i, qc]; both sums are positive since every
    // density includes its own exp(0) = 1.
    private static double Divergence(double[] rows, int n, int stride, int pc, int qc)
    {
        double pSum = 0;
        double qSum = 0;
        for (int i = 0; i < n; i++)
        {
            pSum += rows[i * stride + pc];
            qSum += rows[i * stride + qc];
        }

        double kl = 0;
        for (int i = 0; i < n; i++)
        {
            double p = rows[i * stride + pc] / pSum;
            double q = rows[i * stride + qc] / qSum;
            kl += p * Math.Log(p / q);
        }

        return kl;
    }

    private static double Max(ReadOnlySpan<double> values)
    {
        double max = 0;
        foreach (double v in values)
        {
            max = Math.Max(max, v);
        }

        return max;
    }
}
