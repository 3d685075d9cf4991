using System.Globalization;
using Mmae.Train.Cli;
using Mmae.Train.Data;
using Mmae.Train.Embeddings;
using Mmae.Train.Output;

namespace Mmae.Train.Training;

/// <summary>
/// The reference embedding a run matches: <c>pca:L</c> computes PCA to L dimensions here;
/// <c>file:PATH</c> reads an n×L float32 or float64 .npy whose rows follow the data set's rows.
/// </summary>
public static class ReferenceSpec
{
    /// <summary>Checks the text of --reference without computing anything.</summary>
    /// <exception cref="UsageException">The spec is malformed.</exception>
    public static void Validate(string spec, int inputDim)
    {
        int colon = spec.IndexOf(':', StringComparison.Ordinal);
        string kind = colon < 0 ? spec : spec[..colon];
        string arg = colon < 0 ? "" : spec[(colon + 1)..];
        switch (kind)
        {
            case "pca":
                if (!int.TryParse(arg, NumberStyles.Integer, CultureInfo.InvariantCulture, out int l)
                    || l < 1 || l > inputDim)
                {
                    throw new UsageException(
                        $"option --reference {spec}: pca needs a dimension from 1 to {inputDim}, e.g. pca:100");
                }

                break;
            case "file":
                if (arg.Length == 0)
                {
                    throw new UsageException($"option --reference {spec}: file needs a path, e.g. file:emb.npy");
                }

                break;
            default:
                throw new UsageException(
                    $"option --reference {spec}: unknown method '{kind}'; supported: pca:L, file:PATH");
        }
    }

    /// <summary>Computes or loads the reference rows (n×L, row-major) for <paramref name="data"/>.</summary>
    /// <exception cref="DataFormatException">A reference file does not match the data.</exception>
    public static (float[] Rows, int Dim) Resolve(string spec, Dataset data)
    {
        Validate(spec, data.Dim);
        int colon = spec.IndexOf(':', StringComparison.Ordinal);
        string kind = spec[..colon];
        string arg = spec[(colon + 1)..];
        if (kind == "pca")
        {
            int l = int.Parse(arg, CultureInfo.InvariantCulture);
            Pca pca = Pca.Fit(data.Features, data.Count, data.Dim, l);
            return (pca.Transform(data.Features, data.Count), l);
        }

        if (!File.Exists(arg))
        {
            throw new DataFormatException(arg, $"reference file not found (from --reference {spec}).");
        }

        (double[] values, int[] shape) = Npy.Read(arg);
        if (shape.Length != 2 || shape[0] != data.Count)
        {
            throw new DataFormatException(arg,
                $"reference has shape ({string.Join(", ", shape)}), expected ({data.Count}, L): "
                + "one row per sample of the data set.");
        }

        var rows = new float[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            if (!double.IsFinite(values[i]))
            {
                throw new DataFormatException(arg,
                    $"row {i / shape[1]}, column {i % shape[1]} is {values[i]}; references must be finite.");
            }

            rows[i] = (float)values[i];
        }

        return (rows, shape[1]);
    }
}
