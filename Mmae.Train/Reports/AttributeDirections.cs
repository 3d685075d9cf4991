using System.Globalization;
using System.Text.Json;
using Mmae.Train.Data;
using Mmae.Train.Output;

namespace Mmae.Train.Reports;

/// <summary>One column of a factor table: a value per row of μ.</summary>
/// <param name="Name">The factor's name, for example <c>scale</c> or <c>Smiling</c>.</param>
/// <param name="Kind">How its values are read: discrete (from a chosen source value to a
/// chosen target), continuous (from the rows at its minimum to those at its maximum) or binary
/// (from absent, 0 or −1, to present, 1).</param>
/// <param name="Values">One value per row of μ.</param>
public sealed record FactorColumn(string Name, FactorKind Kind, double[] Values)
{
    /// <summary>The column of a data set's factor, with its values as double.</summary>
    public static FactorColumn From(Factor factor)
    {
        ArgumentNullException.ThrowIfNull(factor);
        return new FactorColumn(factor.Name, factor.Kind, Array.ConvertAll(factor.Values, v => (double)v));
    }
}

/// <summary>A mean-latent-difference direction: mean(μ | target rows) − mean(μ | source rows).
/// </summary>
/// <param name="Name">The factor's name.</param>
/// <param name="Kind">The factor's kind.</param>
/// <param name="SourceValue">The factor value of the rows the direction starts from.</param>
/// <param name="TargetValue">The factor value of the rows it points to.</param>
/// <param name="SourceCount">How many rows had the source value.</param>
/// <param name="TargetCount">How many rows had the target value.</param>
/// <param name="Vector">The direction, m values.</param>
public sealed record AttributeDirection(
    string Name,
    FactorKind Kind,
    double SourceValue,
    double TargetValue,
    int SourceCount,
    int TargetCount,
    float[] Vector);

/// <summary>
/// Latent directions of generative factors and attributes, computed as differences of mean
/// latent codes, and their files: an (k, m) <c>.npy</c> of the vectors and a JSON file of the
/// same name (<c>.json</c>) holding each row's name, kind, values and counts.
/// </summary>
/// <remarks>
/// Rows are matched by exact equality of factor values, so a continuous factor is best given
/// as the data set's own grid of levels (dSprites' six scales); a truly continuous factor has
/// one row at its minimum and one at its maximum. Means are taken in double.
/// </remarks>
public static class AttributeDirections
{
    /// <summary>The <c>format</c> field of the JSON file.</summary>
    public const string Format = "mmae-attribute-directions";

    /// <summary>
    /// The direction of <paramref name="factor"/> in the latent codes <paramref name="mu"/>:
    /// discrete, mean(μ | target) − mean(μ | source) for the given values; continuous,
    /// mean(μ | max) − mean(μ | min); binary, mean(μ | present) − mean(μ | absent).
    /// </summary>
    /// <param name="mu">n × m latent means, row-major.</param>
    /// <param name="n">Rows, the length of the factor's values.</param>
    /// <param name="m">Latent width.</param>
    /// <param name="factor">The factor.</param>
    /// <param name="source">Discrete factors only: the value to start from.</param>
    /// <param name="target">Discrete factors only: the value to point to.</param>
    /// <exception cref="ArgumentException">Sizes disagree; a value is NaN; a discrete factor
    /// lacks source or target, or another kind is given one; a binary factor holds a value
    /// other than 1 and one absent marker (0 or −1); or a chosen value has no rows (the
    /// message lists the values that do occur).</exception>
    public static AttributeDirection Compute(
        ReadOnlySpan<float> mu,
        int n,
        int m,
        FactorColumn factor,
        double? source = null,
        double? target = null)
    {
        ArgumentNullException.ThrowIfNull(factor);
        double[] values = factor.Values;
        if (n < 1 || m < 1 || mu.Length != (long)n * m || values.Length != n)
        {
            throw new ArgumentException(
                $"AttributeDirections: factor '{factor.Name}' has {values.Length} values and mu "
                    + $"{mu.Length}; expected n = {n} values and n·m = {(long)n * m} codes.",
                nameof(factor));
        }

        if (Array.FindIndex(values, double.IsNaN) is int nan and >= 0)
        {
            throw new ArgumentException(
                $"AttributeDirections: factor '{factor.Name}' is NaN at row {nan}; drop "
                    + "unlabelled rows first.",
                nameof(factor));
        }

        if (factor.Kind != FactorKind.Discrete && (source is not null || target is not null))
        {
            throw new ArgumentException(
                $"AttributeDirections: factor '{factor.Name}' is {factor.Kind}, whose values "
                    + "are chosen automatically; source and target are for discrete factors only.",
                nameof(source));
        }

        (double from, double to) = factor.Kind switch
        {
            FactorKind.Discrete => (
                source ?? throw MissingChoice(factor, nameof(source)),
                target ?? throw MissingChoice(factor, nameof(target))),
            FactorKind.Continuous => (values.Min(), values.Max()),
            _ => (AbsentMarker(factor), 1.0),
        };

        (float[] fromMean, int fromCount) = Mean(mu, m, factor, from);
        (float[] toMean, int toCount) = Mean(mu, m, factor, to);
        var vector = new float[m];
        for (int j = 0; j < m; j++)
        {
            vector[j] = toMean[j] - fromMean[j];
        }

        return new AttributeDirection(
            factor.Name, factor.Kind, from, to, fromCount, toCount, vector);
    }

    /// <summary>Writes the directions as a (k, m) float32 <c>.npy</c> at
    /// <paramref name="npyPath"/> and their names, kinds, values and counts as JSON next to it
    /// (the same path with the extension <c>.json</c>).</summary>
    /// <exception cref="ArgumentException">The list is empty or the vectors differ in length.
    /// </exception>
    /// <exception cref="IOException">A file cannot be written.</exception>
    public static void Save(string npyPath, IReadOnlyList<AttributeDirection> directions)
    {
        ArgumentNullException.ThrowIfNull(npyPath);
        ArgumentNullException.ThrowIfNull(directions);
        if (directions.Count == 0
            || directions.Any(d => d.Vector.Length != directions[0].Vector.Length))
        {
            throw new ArgumentException(
                "AttributeDirections.Save: expected at least one direction, all of one latent "
                    + "width.",
                nameof(directions));
        }

        int m = directions[0].Vector.Length;
        Npy.Write(npyPath, directions.SelectMany(d => d.Vector).ToArray(), directions.Count, m);
        var index = new DirectionIndex(
            Format,
            1,
            m,
            directions.Select(d => new DirectionEntry(
                d.Name,
                d.Kind.ToString(),
                d.SourceValue,
                d.TargetValue,
                d.SourceCount,
                d.TargetCount)).ToArray());
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(index, s_json);
        AtomicFile.Write(JsonPath(npyPath), stream => stream.Write(json));
    }

    /// <summary>Reads what <see cref="Save"/> wrote.</summary>
    /// <exception cref="FileNotFoundException">The .npy or the .json file is missing.</exception>
    /// <exception cref="DataFormatException">The files are malformed or disagree (row count,
    /// width, format name, kind).</exception>
    public static IReadOnlyList<AttributeDirection> Load(string npyPath)
    {
        ArgumentNullException.ThrowIfNull(npyPath);
        (double[] data, int[] shape) = Npy.Read(npyPath);
        string jsonPath = JsonPath(npyPath);
        DirectionIndex? index;
        try
        {
            using FileStream file = DataFile.OpenRead(jsonPath);
            index = JsonSerializer.Deserialize<DirectionIndex>(file, s_json);
        }
        catch (JsonException ex)
        {
            throw new DataFormatException(jsonPath, "not a directions index: " + ex.Message);
        }

        if (index is null || index.Format != Format || index.Directions is null)
        {
            throw new DataFormatException(
                jsonPath, $"expected a JSON object with format '{Format}'");
        }

        int k = index.Directions.Length, m = index.Latent;
        if (shape.Length != 2 || shape[0] != k || shape[1] != m)
        {
            throw new DataFormatException(npyPath,
                $"expected shape ({k}, {m}) as {Path.GetFileName(jsonPath)} lists, got "
                + $"({string.Join(", ", shape)})");
        }

        var result = new AttributeDirection[k];
        for (int r = 0; r < k; r++)
        {
            DirectionEntry e = index.Directions[r];
            if (!Enum.TryParse(e.Kind, out FactorKind kind))
            {
                throw new DataFormatException(
                    jsonPath, $"direction {r} has unknown kind '{e.Kind}'");
            }

            float[] vector = data.AsSpan(r * m, m).ToArray().Select(v => (float)v).ToArray();
            result[r] = new AttributeDirection(
                e.Name, kind, e.Source, e.Target, e.SourceCount, e.TargetCount, vector);
        }

        return result;
    }

    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    private static string JsonPath(string npyPath) => Path.ChangeExtension(npyPath, ".json");

    // mean(μ | value) over the rows whose factor equals value, and their count.
    private static (float[] Mean, int Count) Mean(
        ReadOnlySpan<float> mu,
        int m,
        FactorColumn factor,
        double value)
    {
        var sum = new double[m];
        int count = 0;
        for (int i = 0; i < factor.Values.Length; i++)
        {
            if (factor.Values[i] != value)
            {
                continue;
            }

            count++;
            for (int j = 0; j < m; j++)
            {
                sum[j] += mu[i * m + j];
            }
        }

        if (count == 0)
        {
            double[] distinct = factor.Values.Distinct().Order().ToArray();
            string present = string.Join(", ", distinct.Take(20).Select(Text))
                + (distinct.Length > 20 ? ", ..." : "");
            throw new ArgumentException(
                $"AttributeDirections: factor '{factor.Name}' has no rows with value "
                    + $"{Text(value)}; values present: {present}.",
                nameof(factor));
        }

        return (sum.Select(s => (float)(s / count)).ToArray(), count);
    }

    // 0 or −1, whichever the binary factor uses for "absent".
    private static double AbsentMarker(FactorColumn factor)
    {
        double[] distinct = factor.Values.Distinct().Order().ToArray();
        double[] unexpected = distinct.Where(v => v is not (1.0 or 0.0 or -1.0)).ToArray();
        if (unexpected.Length > 0 || (distinct.Contains(0.0) && distinct.Contains(-1.0)))
        {
            throw new ArgumentException(
                $"AttributeDirections: binary factor '{factor.Name}' holds "
                    + $"{string.Join(", ", distinct.Select(Text))}; expected 1 for present and "
                    + "one of 0 or -1 for absent.",
                nameof(factor));
        }

        return distinct.Contains(0.0) ? 0.0 : -1.0;
    }

    private static ArgumentException MissingChoice(FactorColumn factor, string which) => new(
        $"AttributeDirections: factor '{factor.Name}' is discrete; give the {which} value to "
            + "compute its direction.",
        which);

    private static string Text(double v) => v.ToString("G6", CultureInfo.InvariantCulture);

    private sealed record DirectionEntry(
        string Name,
        string Kind,
        double Source,
        double Target,
        int SourceCount,
        int TargetCount);

    private sealed record DirectionIndex(
        string Format,
        int Version,
        int Latent,
        DirectionEntry[] Directions);
}
