using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Mmae.Train.Metrics;

/// <summary>Trustworthiness and continuity at one neighbourhood size.</summary>
/// <param name="K">Neighbourhood size.</param>
/// <param name="Trustworthiness">T(k), 1 when perfect.</param>
/// <param name="Continuity">C(k), 1 when perfect.</param>
public sealed record TrustContinuity(int K, double Trustworthiness, double Continuity);

/// <summary>The two mean relative rank errors at one neighbourhood size.</summary>
/// <param name="K">Neighbourhood size.</param>
/// <param name="LatentToData">MRRE_{Z→X}(k), 0 when perfect.</param>
/// <param name="DataToLatent">MRRE_{X→Z}(k), 0 when perfect.</param>
public sealed record RankError(int K, double LatentToData, double DataToLatent);

/// <summary>Every quality metric of one set of latent codes, from
/// <see cref="QualityMetrics.Evaluate"/>.</summary>
/// <remarks>Definitions: trustworthiness, continuity and MRRE in
/// <see cref="NeighbourhoodMetrics"/>; distance RMSE and KL_σ in <see cref="DistanceMetrics"/>;
/// the probe in <see cref="LinearProbe"/>; ARI and silhouette in <see cref="Clustering"/>
/// (the ARI compares the labels with <see cref="KMeans"/> clusters of the codes, k = classes;
/// the silhouette scores the codes grouped by the true labels).</remarks>
public sealed record QualityReport
{
    /// <summary>Points evaluated (n).</summary>
    public required int Samples { get; init; }

    /// <summary>Input dimension.</summary>
    public required int InputDim { get; init; }

    /// <summary>Latent dimension.</summary>
    public required int LatentDim { get; init; }

    /// <summary>T(k) and C(k) for each k asked for.</summary>
    public required IReadOnlyList<TrustContinuity> TrustContinuity { get; init; }

    /// <summary>MRRE_{Z→X}(k) and MRRE_{X→Z}(k) for each k asked for.</summary>
    public required IReadOnlyList<RankError> RankErrors { get; init; }

    /// <summary>RMSE between the max-normalised distance matrices.</summary>
    public required double DistanceRmse { get; init; }

    /// <summary>KL_σ for each σ asked for.</summary>
    public required IReadOnlyList<DensityKl> DensityKl { get; init; }

    /// <summary>Mean squared reconstruction error, or null without reconstructions.</summary>
    public double? ReconstructionMse { get; init; }

    /// <summary>Distinct labels, or null without labels.</summary>
    public int? Classes { get; init; }

    /// <summary>Held-out accuracy of the linear probe, or null without labels.</summary>
    public double? LinearProbeAccuracy { get; init; }

    /// <summary>Adjusted Rand index of k-means clusters against the labels, or null.</summary>
    public double? KMeansAri { get; init; }

    /// <summary>Silhouette of the codes grouped by label, or null without labels.</summary>
    public double? Silhouette { get; init; }

    /// <summary>Mean of T(k) over the ks.</summary>
    public double MeanTrustworthiness => TrustContinuity.Average(t => t.Trustworthiness);

    /// <summary>Mean of C(k) over the ks.</summary>
    public double MeanContinuity => TrustContinuity.Average(t => t.Continuity);

    /// <summary>Every figure as (name, value), in table and JSON order; absent ones left out.
    /// Names are the JSON keys: <c>trustworthiness@10</c>, <c>kl@0.1</c>, ...</summary>
    public IReadOnlyList<(string Name, double Value)> Entries()
    {
        var entries = new List<(string, double)>
        {
            ("samples", Samples),
            ("input_dim", InputDim),
            ("latent_dim", LatentDim),
        };
        foreach (TrustContinuity t in TrustContinuity)
        {
            entries.Add(($"trustworthiness@{t.K}", t.Trustworthiness));
        }

        entries.Add(("trustworthiness_mean", MeanTrustworthiness));
        foreach (TrustContinuity t in TrustContinuity)
        {
            entries.Add(($"continuity@{t.K}", t.Continuity));
        }

        entries.Add(("continuity_mean", MeanContinuity));
        foreach (RankError r in RankErrors)
        {
            entries.Add(($"mrre_latent_to_data@{r.K}", r.LatentToData));
        }

        foreach (RankError r in RankErrors)
        {
            entries.Add(($"mrre_data_to_latent@{r.K}", r.DataToLatent));
        }

        entries.Add(("distance_rmse", DistanceRmse));
        foreach (DensityKl kl in DensityKl)
        {
            entries.Add((string.Create(CultureInfo.InvariantCulture, $"kl@{kl.Sigma}"),
                kl.Divergence));
        }

        AddIfPresent("reconstruction_mse", ReconstructionMse);
        AddIfPresent("classes", Classes);
        AddIfPresent("linear_probe_accuracy", LinearProbeAccuracy);
        AddIfPresent("kmeans_ari", KMeansAri);
        AddIfPresent("silhouette", Silhouette);
        return entries;

        void AddIfPresent(string name, double? value)
        {
            if (value is { } v)
            {
                entries.Add((name, v));
            }
        }
    }

    /// <summary>Writes the report as an aligned two-column text table, one figure a line:
    /// names left-aligned, values right-aligned (counts as integers, metrics with 6 decimals,
    /// or 4 significant digits in E notation below 0.001 so small KL values keep digits).
    /// </summary>
    /// <param name="writer">Destination, e.g. the console.</param>
    public void WriteTable(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var entries = Entries();
        string[] values = entries.Select(e => Format(e.Name, e.Value)).ToArray();
        int nameWidth = Math.Max("metric".Length, entries.Max(e => e.Name.Length));
        int valueWidth = Math.Max("value".Length, values.Max(v => v.Length));
        writer.WriteLine($"{"metric".PadRight(nameWidth)} | {"value".PadLeft(valueWidth)}");
        writer.WriteLine($"{new string('-', nameWidth)}-+-{new string('-', valueWidth)}");
        for (int e = 0; e < entries.Count; e++)
        {
            string name = entries[e].Name.PadRight(nameWidth);
            writer.WriteLine($"{name} | {values[e].PadLeft(valueWidth)}");
        }
    }

    /// <summary>The report as indented JSON: one object of the <see cref="Entries"/>, in
    /// order, values as shortest round-trip numbers.</summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        WriteJson(stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>Writes <see cref="ToJson"/>'s text, UTF-8, to <paramref name="stream"/>.
    /// </summary>
    /// <param name="stream">Destination, e.g. a file stream.</param>
    /// <exception cref="ArgumentException">A value is NaN or infinite, which JSON cannot
    /// hold (the metrics are finite on valid input).</exception>
    public void WriteJson(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        foreach ((string name, double value) in Entries())
        {
            json.WriteNumber(name, value);
        }

        json.WriteEndObject();
    }

    private static string Format(string name, double value) =>
        name is "samples" or "input_dim" or "latent_dim" or "classes"
            ? value.ToString("0", CultureInfo.InvariantCulture)
            : value != 0 && Math.Abs(value) < 1e-3
                ? value.ToString("0.000E+00", CultureInfo.InvariantCulture)
                : value.ToString("0.000000", CultureInfo.InvariantCulture);
}
