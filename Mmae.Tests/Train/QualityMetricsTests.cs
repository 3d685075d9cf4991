using System.Text.Json;
using Mmae.Train.Metrics;
using Xunit;
using static Mmae.Tests.Train.TrainTestSupport;

namespace Mmae.Tests.Train;

/// <summary>Every quality metric against the golden values of tools/metrics/golden.py
/// (scikit-learn, or numpy written from the definition where scikit-learn has none), read from
/// References/metrics-golden.json.</summary>
public sealed class QualityMetricsTests
{
    // T and C sum exact integers; the golden side rounds only in its final normalisation.
    private const double RankTolerance = 1e-12;

    // MRRE, RMSE, KL, silhouette: sums of 10^4-10^5 double terms in a different order than
    // NumPy's pairwise sums, so a few hundred ulps apart at most.
    private const double SumTolerance = 1e-10;

    private static readonly Lazy<JsonElement> s_golden = new(() =>
    {
        using Stream stream = typeof(QualityMetricsTests).Assembly
            .GetManifestResourceStream("metrics-golden.json")!;
        return JsonDocument.Parse(stream).RootElement.Clone();
    });

    private static JsonElement Embedding => s_golden.Value.GetProperty("embedding");

    [Fact]
    public void ComputeScores_Golden_MatchesScikitLearnAndRankErrorReference()
    {
        JsonElement g = Embedding;
        int[] ks = Ints(g, "ks");

        var scores = NeighbourhoodMetrics.ComputeScores(Floats(g, "high"), Int(g, "high_dim"),
            Floats(g, "low"), Int(g, "low_dim"), Int(g, "n"), ks);

        AssertClose(Doubles(g, "trustworthiness"), scores.Select(s => s.Trustworthiness),
            RankTolerance, "trustworthiness");
        AssertClose(Doubles(g, "continuity"), scores.Select(s => s.Continuity), RankTolerance,
            "continuity");
        AssertClose(Doubles(g, "mrre_latent_to_data"), scores.Select(s => s.MrreLatentToData),
            SumTolerance, "MRRE Z->X");
        AssertClose(Doubles(g, "mrre_data_to_latent"), scores.Select(s => s.MrreDataToLatent),
            SumTolerance, "MRRE X->Z");
    }

    [Fact]
    public void DistanceMetrics_Golden_MatchesReference()
    {
        JsonElement g = Embedding;

        DistanceScores scores = DistanceMetrics.Compute(Floats(g, "high"), Int(g, "high_dim"),
            Floats(g, "low"), Int(g, "low_dim"), Int(g, "n"), Doubles(g, "sigmas"));

        AssertClose([Number(g, "distance_rmse")], [scores.Rmse], SumTolerance, "RMSE");
        Assert.Equal(Doubles(g, "sigmas"), scores.Kl.Select(k => k.Sigma));
        AssertClose(Doubles(g, "kl"), scores.Kl.Select(k => k.Divergence), SumTolerance, "KL");
    }

    [Fact]
    public void Evaluate_Golden_ReportsEveryReferenceValue()
    {
        JsonElement g = Embedding;
        int[] labels = Ints(g, "labels");

        QualityReport report = QualityMetrics.Evaluate(Floats(g, "high"), Int(g, "high_dim"),
            Floats(g, "low"), Int(g, "low_dim"), Floats(g, "reconstruction"), labels);

        Assert.Equal(Int(g, "n"), report.Samples);
        Assert.Equal(Ints(g, "ks"), report.TrustContinuity.Select(t => t.K));
        AssertClose(Doubles(g, "trustworthiness"),
            report.TrustContinuity.Select(t => t.Trustworthiness), RankTolerance, "T");
        AssertClose(Doubles(g, "continuity"), report.TrustContinuity.Select(t => t.Continuity),
            RankTolerance, "continuity");
        AssertClose([Doubles(g, "trustworthiness").Average()], [report.MeanTrustworthiness],
            RankTolerance, "mean trustworthiness");
        AssertClose(Doubles(g, "mrre_data_to_latent"),
            report.RankErrors.Select(r => r.DataToLatent), SumTolerance, "MRRE X->Z");
        AssertClose(Doubles(g, "kl"), report.DensityKl.Select(k => k.Divergence), SumTolerance,
            "KL");
        AssertClose(
            [Number(g, "distance_rmse"), Number(g, "reconstruction_mse"), Number(g, "silhouette")],
            [report.DistanceRmse, report.ReconstructionMse!.Value, report.Silhouette!.Value],
            SumTolerance, "RMSE, reconstruction MSE, silhouette");
        Assert.Equal(labels.Distinct().Count(), report.Classes);
        Assert.InRange(report.LinearProbeAccuracy!.Value, 0.0, 1.0);
        Assert.InRange(report.KMeansAri!.Value, -1.0, 1.0);
    }

    [Fact]
    public void AdjustedRandIndex_FixedLabellings_MatchesScikitLearn()
    {
        foreach (JsonElement c in s_golden.Value.GetProperty("ari").EnumerateArray())
        {
            double ari = Clustering.AdjustedRandIndex(Ints(c, "a"), Ints(c, "b"));

            AssertClose([Number(c, "ari")], [ari], 1e-14, "ARI");
        }
    }

    [Fact]
    public void Silhouette_FixedLabellingsWithSingleton_MatchesScikitLearn()
    {
        foreach (JsonElement c in s_golden.Value.GetProperty("silhouette").EnumerateArray())
        {
            double s = Clustering.Silhouette(Floats(c, "x"), Int(c, "dim"), Ints(c, "labels"));

            AssertClose([Number(c, "silhouette")], [s], SumTolerance, "silhouette");
        }
    }

    [Fact]
    public void KMeans_SeparatedBlobs_FindsScikitLearnOptimum()
    {
        JsonElement g = s_golden.Value.GetProperty("kmeans");
        int n = Int(g, "n");

        KMeansResult result = KMeans.Fit(Floats(g, "x"), n, Int(g, "dim"), Int(g, "k"), seed: 3);

        // The same partition has the same inertia up to summation order.
        AssertClose([Number(g, "inertia")], [result.Inertia], SumTolerance, "inertia");
        Assert.Equal(1.0, Clustering.AdjustedRandIndex(Ints(g, "labels"), result.Labels));
    }

    [Fact]
    public void KMeans_SameSeed_SameClustersOnAnyThreadCount()
    {
        float[] x = Gaussian(new Random(71), 900 * 3);

        KMeansResult one = KMeans.Fit(x, 900, 3, 6, seed: 5, inits: 3, threads: 1);
        KMeansResult two = KMeans.Fit(x, 900, 3, 6, seed: 5, inits: 3, threads: 2);

        Assert.Equal(one.Labels, two.Labels);
        Assert.Equal(one.Inertia, two.Inertia);
    }

    [Fact]
    public void LinearProbe_SeparableClasses_NearlyPerfect()
    {
        (float[] codes, int[] labels) = Blobs(new Random(72), 600, dim: 4, classes: 5, spread: 0.3);

        LinearProbeResult result = LinearProbe.Evaluate(codes, 4, labels, 0.25, seed: 1);

        Assert.Equal(150, result.TestCount);
        Assert.Equal(5, result.Classes);
        Assert.True(result.Accuracy >= 0.97, $"accuracy {result.Accuracy} on separable blobs");
    }

    [Fact]
    public void LinearProbe_RandomLabels_ChanceLevel()
    {
        var random = new Random(73);
        float[] codes = Gaussian(random, 2000 * 4);
        int[] labels = Enumerable.Range(0, 2000).Select(_ => random.Next(4)).ToArray();

        LinearProbeResult result = LinearProbe.Evaluate(codes, 4, labels, 0.3, seed: 2);

        // 600 test points at chance 1/4: the standard deviation of the accuracy is 0.018, so
        // ±0.07 is about four of them.
        Assert.InRange(result.Accuracy, 0.25 - 0.07, 0.25 + 0.07);
    }

    [Fact]
    public void LinearProbe_SameSeed_SameAccuracyOnAnyThreadCount()
    {
        (float[] codes, int[] labels) =
            Blobs(new Random(74), 1500, dim: 3, classes: 4, spread: 1.5);

        double one = LinearProbe.Evaluate(codes, 3, labels, 0.2, seed: 9, threads: 1).Accuracy;
        double two = LinearProbe.Evaluate(codes, 3, labels, 0.2, seed: 9, threads: 2).Accuracy;

        Assert.Equal(one, two);
        Assert.InRange(one, 0.3, 0.99);
    }

    [Fact]
    public void ComputeScoresAndDistanceMetrics_AnyThreadCount_BitIdentical()
    {
        var random = new Random(75);
        float[] high = Gaussian(random, 150 * 6);
        float[] low = Gaussian(random, 150 * 2);

        var one = NeighbourhoodMetrics.ComputeScores(high, 6, low, 2, 150, [3, 20], threads: 1);
        var two = NeighbourhoodMetrics.ComputeScores(high, 6, low, 2, 150, [3, 20], threads: 2);
        DistanceScores d1 = DistanceMetrics.Compute(high, 6, low, 2, 150, [0.1], threads: 1);
        DistanceScores d2 = DistanceMetrics.Compute(high, 6, low, 2, 150, [0.1], threads: 2);

        Assert.Equal(one, two);
        Assert.Equal(d1.Rmse, d2.Rmse);
        Assert.Equal(d1.Kl, d2.Kl);
    }

    [Fact]
    public void DistanceMetrics_ScaledIdentity_ZeroErrorAndDivergence()
    {
        float[] x = Gaussian(new Random(76), 60 * 3);
        float[] scaled = x.Select(v => 4 * v).ToArray();

        DistanceScores scores = DistanceMetrics.Compute(x, 3, scaled, 3, 60, [0.01, 1]);

        // Scaling by a power of two is exact, so the normalised distances are identical.
        Assert.Equal(0.0, scores.Rmse);
        Assert.All(scores.Kl, k => Assert.Equal(0.0, k.Divergence));
    }

    [Fact]
    public void Evaluate_KNotBelowHalfN_ThrowsNamingOptionAndFix()
    {
        float[] x = Gaussian(new Random(77), 150 * 3);

        var ex = Assert.Throws<ArgumentOutOfRangeException>(
            () => QualityMetrics.Evaluate(x, 3, x, 3, null, null));

        Assert.Contains("k = 100 in options.Ks", ex.Message);
        Assert.Contains("at least 201", ex.Message);
    }

    [Fact]
    public void Evaluate_OneClass_ThrowsArgumentException()
    {
        float[] x = Gaussian(new Random(78), 40 * 2);
        var options = new QualityOptions { Ks = [3] };

        var ex = Assert.Throws<ArgumentException>(
            () => QualityMetrics.Evaluate(x, 2, x, 2, null, new int[40], options));

        Assert.Contains("1 distinct values", ex.Message);
    }

    [Fact]
    public void Evaluate_ReconstructionLengthMismatch_ThrowsArgumentException()
    {
        float[] x = Gaussian(new Random(79), 40 * 2);
        var options = new QualityOptions { Ks = [3] };

        var ex = Assert.Throws<ArgumentException>(
            () => QualityMetrics.Evaluate(x, 2, x, 2, new float[79], null, options));

        Assert.Contains("expected reconstructions of 80 values", ex.Message);
    }

    [Fact]
    public void DistanceMetrics_CoincidentLatent_ThrowsArgumentException()
    {
        float[] x = Gaussian(new Random(80), 20 * 2);

        var ex = Assert.Throws<ArgumentException>(
            () => DistanceMetrics.Compute(x, 2, new float[20], 1, 20, [0.1]));

        Assert.Contains("all 20 points of low coincide", ex.Message);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    public void DistanceMetrics_BadSigma_ThrowsArgumentOutOfRange(double sigma)
    {
        float[] x = Gaussian(new Random(81), 20 * 2);

        Assert.Throws<ArgumentOutOfRangeException>(
            () => DistanceMetrics.Compute(x, 2, x, 2, 20, [sigma]));
    }

    [Fact]
    public void Silhouette_OneCluster_ThrowsArgumentException()
    {
        float[] x = Gaussian(new Random(82), 10 * 2);

        var ex = Assert.Throws<ArgumentException>(() => Clustering.Silhouette(x, 2, new int[10]));

        Assert.Contains("1 distinct labels on 10 points", ex.Message);
    }

    [Fact]
    public void AdjustedRandIndex_LengthsDiffer_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => Clustering.AdjustedRandIndex([1, 2, 3], [1, 2]));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(0.001)]
    public void LinearProbe_SplitWithoutTestPoints_ThrowsArgumentOutOfRange(double fraction)
    {
        float[] x = Gaussian(new Random(83), 30 * 2);
        int[] labels = Enumerable.Range(0, 30).Select(i => i % 2).ToArray();

        Assert.Throws<ArgumentOutOfRangeException>(
            () => LinearProbe.Evaluate(x, 2, labels, fraction, 0));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(11)]
    public void KMeans_KOutsideRange_ThrowsArgumentOutOfRange(int k)
    {
        float[] x = Gaussian(new Random(84), 10 * 2);

        Assert.Throws<ArgumentOutOfRangeException>(() => KMeans.Fit(x, 10, 2, k, 0));
    }

    [Fact]
    public void Report_TableAndJson_HoldEveryEntryAligned()
    {
        (float[] codes, int[] labels) = Blobs(new Random(85), 120, dim: 2, classes: 3, spread: 0.5);
        float[] input = codes.Select((v, i) => v + 0.01f * (i % 7)).ToArray();
        var options = new QualityOptions { Ks = [3, 10], MrreKs = [5], Sigmas = [0.1] };

        QualityReport report = QualityMetrics.Evaluate(input, 2, codes, 2, input, labels, options);
        var table = new StringWriter();
        report.WriteTable(table);
        string[] lines = table.ToString().TrimEnd().Split('\n');
        using var json = JsonDocument.Parse(report.ToJson());

        var entries = report.Entries();
        Assert.Equal(entries.Count + 2, lines.Length);
        Assert.All(lines, l => Assert.Equal(lines[0].Length, l.Length));
        JsonElement root = json.RootElement;
        Assert.Equal(entries.Select(e => e.Name), root.EnumerateObject().Select(p => p.Name));
        Assert.All(entries, e => Assert.Equal(e.Value, Number(root, e.Name)));
        Assert.Contains("mrre_latent_to_data@5", table.ToString());
        Assert.DoesNotContain("mrre_latent_to_data@3", table.ToString());
        Assert.Contains("kl@0.1", table.ToString());
        Assert.Equal(0.0, report.ReconstructionMse);
    }

    private static (float[] Codes, int[] Labels) Blobs(Random random, int n, int dim, int classes,
        double spread)
    {
        float[] centres = Gaussian(random, classes * dim).Select(v => 4 * v).ToArray();
        int[] labels = Enumerable.Range(0, n).Select(i => i % classes).ToArray();
        float[] codes = new float[n * dim];
        for (int i = 0; i < n; i++)
        {
            for (int c = 0; c < dim; c++)
            {
                double noise = spread * random.NextGaussian();
                codes[i * dim + c] = centres[labels[i] * dim + c] + (float)noise;
            }
        }

        return (codes, labels);
    }

    private static void AssertClose(IEnumerable<double> expected, IEnumerable<double> actual,
        double tolerance, string what)
    {
        double[] e = expected.ToArray();
        double[] a = actual.ToArray();
        Assert.Equal(e.Length, a.Length);
        for (int i = 0; i < e.Length; i++)
        {
            double diff = Math.Abs(e[i] - a[i]);
            Assert.True(diff <= tolerance * Math.Max(1.0, Math.Abs(e[i])),
                $"{what}[{i}]: expected {e[i]:R}, actual {a[i]:R}, abs diff {diff:E2}");
        }
    }

    private static int Int(JsonElement e, string name) => e.GetProperty(name).GetInt32();

    private static double Number(JsonElement e, string name) => e.GetProperty(name).GetDouble();

    private static int[] Ints(JsonElement e, string name) =>
        e.GetProperty(name).EnumerateArray().Select(v => v.GetInt32()).ToArray();

    private static double[] Doubles(JsonElement e, string name) =>
        e.GetProperty(name).EnumerateArray().Select(v => v.GetDouble()).ToArray();

    // The golden file stores float32 values as exact doubles, so the cast is exact.
    private static float[] Floats(JsonElement e, string name) =>
        e.GetProperty(name).EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();

    private static float[] Gaussian(Random random, int count) =>
        Enumerable.Range(0, count).Select(_ => (float)random.NextGaussian()).ToArray();
}
