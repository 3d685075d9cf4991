namespace Mmae.Train.Metrics;

/// <summary>Settings of <see cref="QualityMetrics.Evaluate"/>, with the defaults of the
/// topological-autoencoder evaluations.</summary>
public sealed record QualityOptions
{
    /// <summary>Neighbourhood sizes of trustworthiness and continuity; each needs more than
    /// 2k evaluation points.</summary>
    public IReadOnlyList<int> Ks { get; init; } = [3, 5, 10, 25, 100];

    /// <summary>Neighbourhood sizes of the MRREs; null means <see cref="Ks"/>.</summary>
    public IReadOnlyList<int>? MrreKs { get; init; }

    /// <summary>Kernel widths σ of KL_σ.</summary>
    public IReadOnlyList<double> Sigmas { get; init; } = [0.01, 0.1, 1.0];

    /// <summary>Seed of the probe's split and of the k-means draws.</summary>
    public int Seed { get; init; }

    /// <summary>Share of labelled points the linear probe holds out for scoring.</summary>
    public double ProbeTestFraction { get; init; } = 0.2;

    /// <summary>Seeded k-means runs; the one with the least inertia is scored.</summary>
    public int KMeansInits { get; init; } = 10;

    /// <summary>Compute threads; 0 means every core. No result depends on it.</summary>
    public int Threads { get; init; }
}

/// <summary>Every quality metric of an autoencoder's latent codes in one call, for
/// <c>mmae evaluate</c>.</summary>
public static class QualityMetrics
{
    private const string Op = "QualityMetrics.Evaluate";

    /// <summary>Scores latent codes against the inputs they encode (and, when given, the
    /// reconstructions and class labels of the same points).</summary>
    /// <param name="input">n × inputDim input rows, row-major: the evaluation subset.</param>
    /// <param name="inputDim">Input dimension; n = input.Length / inputDim.</param>
    /// <param name="latent">n × latentDim latent codes of the same rows, same order.</param>
    /// <param name="latentDim">Latent dimension.</param>
    /// <param name="reconstructions">n × inputDim decoder outputs, or null to skip the
    /// reconstruction MSE.</param>
    /// <param name="labels">n class labels (any int values, at least 2 distinct), or null to
    /// skip the linear probe, k-means ARI and silhouette.</param>
    /// <param name="options">Neighbourhood sizes, σs, seed, probe split; null for defaults.
    /// </param>
    /// <returns>The report; see <see cref="QualityReport"/> for each metric's definition.</returns>
    /// <remarks>
    /// <para>All pairs of the n points are visited twice (ranks, then normalised distances), so
    /// time is O(n² (inputDim + latentDim + log n)): pass a subset of a few thousand points,
    /// not a whole training set. Up to 5,792 points the input distances of the first visit are
    /// kept (8 n² bytes, at most 256 MiB) for the second; beyond that they are computed twice.
    /// The label metrics add O(n² latentDim) for the silhouette.</para>
    /// <para>With default <see cref="QualityOptions.Ks"/> (up to k = 100) n must exceed 200;
    /// a k with 2k ≥ n throws rather than being skipped, so a report never silently lacks a
    /// column.</para>
    /// </remarks>
    /// <exception cref="ArgumentException">A dimension is not positive, an array length does
    /// not fit n, a value is not finite, the labels hold fewer than 2 classes, or all inputs or
    /// all codes coincide.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than 3 points, a k outside
    /// 1 ≤ k &lt; n / 2, a σ that is not positive, or a probe split leaving no test point.
    /// </exception>
    public static QualityReport Evaluate(
        float[] input,
        int inputDim,
        float[] latent,
        int latentDim,
        float[]? reconstructions,
        int[]? labels,
        QualityOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        options ??= new QualityOptions();
        if (inputDim <= 0 || input.Length % inputDim != 0)
        {
            throw new ArgumentException(
                $"{Op}: input has {input.Length} values, not a whole number of rows of "
                + $"inputDim = {inputDim}.", nameof(inputDim));
        }

        int n = input.Length / inputDim;
        IReadOnlyList<int> mrreKs = options.MrreKs ?? options.Ks;
        int[] allKs = options.Ks.Concat(mrreKs).Distinct().Order().ToArray();
        CheckKs(n, allKs, nameof(options));
        NeighbourhoodMetrics.Validate(input, inputDim, latent, latentDim, n, allKs);
        DistanceMetrics.Validate(input, inputDim, latent, latentDim, n, options.Sigmas);
        if (reconstructions is not null)
        {
            PairwiseRows.CheckPoints(Op, reconstructions, inputDim, n, nameof(reconstructions));
        }

        int classes = labels is null ? 0 : CheckLabels(labels, n);

        HighDistanceCache? cache = HighDistanceCache.TryCreate(n);
        var (scores, maxHighSq, maxLowSq) = NeighbourhoodMetrics.Run(input, inputDim, latent,
            latentDim, n, allKs, options.Threads, cache);
        NeighbourhoodScores At(int k) => scores[Array.IndexOf(allKs, k)];
        DistanceScores distances = DistanceMetrics.Run(PairwiseRows.ToDouble(input), inputDim,
            PairwiseRows.ToDouble(latent), latentDim, n, options.Sigmas, maxHighSq, maxLowSq,
            options.Threads, cache);

        var report = new QualityReport
        {
            Samples = n,
            InputDim = inputDim,
            LatentDim = latentDim,
            TrustContinuity = options.Ks
                .Select(k => new TrustContinuity(k, At(k).Trustworthiness, At(k).Continuity))
                .ToArray(),
            RankErrors = mrreKs
                .Select(k => new RankError(k, At(k).MrreLatentToData, At(k).MrreDataToLatent))
                .ToArray(),
            DistanceRmse = distances.Rmse,
            DensityKl = distances.Kl,
            ReconstructionMse = reconstructions is null ? null : Mse(input, reconstructions),
        };
        if (labels is null)
        {
            return report;
        }

        LinearProbeResult probe = LinearProbe.Evaluate(latent, latentDim, labels,
            options.ProbeTestFraction, options.Seed, options.Threads);
        KMeansResult clusters = KMeans.Fit(latent, n, latentDim, classes, options.Seed,
            options.KMeansInits, threads: options.Threads);
        return report with
        {
            Classes = classes,
            LinearProbeAccuracy = probe.Accuracy,
            KMeansAri = Clustering.AdjustedRandIndex(labels, clusters.Labels),
            Silhouette = Clustering.Silhouette(latent, latentDim, labels, options.Threads),
        };
    }

    /// <summary>Mean of (x − x̂)² over every value.</summary>
    private static double Mse(float[] x, float[] reconstructions)
    {
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double diff = (double)reconstructions[i] - x[i];
            sum += diff * diff;
        }

        return sum / x.Length;
    }

    private static void CheckKs(int n, int[] ks, string paramName)
    {
        foreach (int k in ks)
        {
            if (k < 1 || 2L * k >= n)
            {
                throw new ArgumentOutOfRangeException(paramName,
                    $"{Op}: k = {k} in options.Ks or options.MrreKs needs 1 <= k < n/2, and the "
                    + $"evaluation subset has n = {n} points; pass smaller ks or more points "
                    + $"(at least {2L * k + 1}).");
            }
        }
    }

    private static int CheckLabels(int[] labels, int n)
    {
        int classes = labels.Distinct().Count();
        if (labels.Length != n || classes < 2 || classes >= n)
        {
            throw new ArgumentException(
                $"{Op}: got {labels.Length} labels with {classes} distinct values for {n} points; "
                + "the label metrics need one label per point and 2 to n - 1 classes. Pass "
                + "null labels to skip them.", nameof(labels));
        }

        return classes;
    }
}
