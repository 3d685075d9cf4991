using System.Globalization;
using Mmae.Train.Output;

namespace Mmae.Train.Data;

/// <summary>
/// Reads a user's reference embedding: a <c>.npy</c> (float32 or float64, n × L) or a
/// <c>.csv</c> (n rows of L numbers), one row per sample in the data set's order.
/// </summary>
/// <remarks>
/// Every problem is one <see cref="DataFormatException"/> naming the file, the row and what is
/// wrong. Rows are counted from 0 in a .npy, as NumPy indexes them; a .csv names its line
/// (from 1) as an editor shows it. A .csv may start with one header line whose fields are not
/// numbers; fields are separated by commas, numbers use '.' as the decimal point, and blank
/// lines at the end are ignored.
/// </remarks>
public static class ReferenceFile
{
    /// <summary>Reads the embedding in <paramref name="path"/> and checks it against the data.</summary>
    /// <param name="path">A .npy or .csv file.</param>
    /// <param name="expectedRows">Samples in the data set.</param>
    /// <returns>The rows (n × L, row-major) and L.</returns>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="DataFormatException">The extension is neither .npy nor .csv, the row
    /// count differs from <paramref name="expectedRows"/>, a value is NaN or infinite or not
    /// a number, or a .csv row has a different number of values than the first.</exception>
    public static (float[] Rows, int Dim) Read(string path, int expectedRows)
    {
        ArgumentNullException.ThrowIfNull(path);
        string extension = Path.GetExtension(path).ToLowerInvariant();
        return extension switch
        {
            ".npy" => ReadNpy(path, expectedRows),
            ".csv" => ReadCsv(path, expectedRows),
            _ => throw new DataFormatException(path,
                $"unsupported reference file type '{extension}'; use .npy (float32/float64, n x L) "
                + "or .csv (n rows of L numbers)"),
        };
    }

    private static (float[] Rows, int Dim) ReadNpy(string path, int expectedRows)
    {
        (double[] values, int[] shape) = Npy.Read(path);
        if (shape.Length != 2)
        {
            throw new DataFormatException(path,
                $"reference has shape ({string.Join(", ", shape)}), expected ({expectedRows}, L): "
                + "a 2-D array with one row per sample");
        }

        if (shape[0] != expectedRows)
        {
            throw new DataFormatException(path,
                $"reference has shape ({shape[0]}, {shape[1]}), expected ({expectedRows}, L): "
                + $"{shape[0]} rows for {expectedRows} samples; one row per sample, in the data's order");
        }

        if (shape[1] < 1)
        {
            throw new DataFormatException(path, "reference has 0 columns; expected at least 1");
        }

        var rows = new float[values.Length];
        for (int e = 0; e < values.Length; e++)
        {
            rows[e] = ToFinite(path, values[e], $"row {e / shape[1]}, column {e % shape[1]}");
        }

        return (rows, shape[1]);
    }

    private static (float[] Rows, int Dim) ReadCsv(string path, int expectedRows)
    {
        string[] lines;
        using (var reader = new StreamReader(DataFile.OpenRead(path)))
        {
            lines = reader.ReadToEnd().Split('\n');
        }

        int last = lines.Length;
        while (last > 0 && lines[last - 1].Trim().Length == 0)
        {
            last--;
        }

        int first = last > 0 && IsHeader(lines[0]) ? 1 : 0;
        int count = last - first;
        if (count != expectedRows)
        {
            throw new DataFormatException(path,
                $"reference has {count} rows, expected {expectedRows}: one row per sample, "
                + "in the data's order" + (first == 1 ? " (line 1 was read as a header)" : ""));
        }

        int dim = 0;
        var rows = new List<float>();
        for (int line = first; line < last; line++)
        {
            string text = lines[line].TrimEnd('\r');
            string where = $"line {line + 1} (row {line - first})";
            if (text.Trim().Length == 0)
            {
                throw new DataFormatException(path, $"{where} is empty; expected {Math.Max(dim, 1)} values");
            }

            string[] fields = text.Split(',');
            if (dim == 0)
            {
                dim = fields.Length;
            }
            else if (fields.Length != dim)
            {
                throw new DataFormatException(path,
                    $"{where} has {fields.Length} values, expected {dim} like line {first + 1}");
            }

            for (int c = 0; c < fields.Length; c++)
            {
                string field = fields[c].Trim();
                if (!TryParse(field, out double v))
                {
                    throw new DataFormatException(path,
                        $"{where}, column {c}: '{Shorten(field)}' is not a number");
                }

                rows.Add(ToFinite(path, v, $"{where}, column {c}"));
            }
        }

        return ([.. rows], dim);
    }

    // A header line has at least one field that is not a number.
    private static bool IsHeader(string line)
    {
        foreach (string field in line.TrimEnd('\r').Split(','))
        {
            string f = field.Trim();
            if (f.Length > 0 && !TryParse(f, out _))
            {
                return true;
            }
        }

        return false;
    }

    // Invariant-culture numbers plus the spellings NumPy and pandas write: nan, inf, -inf.
    private static bool TryParse(string field, out double value)
    {
        if (double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out value))
        {
            return true;
        }

        string f = field.ToLowerInvariant();
        value = f switch
        {
            "nan" or "+nan" or "-nan" => double.NaN,
            "inf" or "+inf" or "infinity" or "+infinity" => double.PositiveInfinity,
            "-inf" or "-infinity" => double.NegativeInfinity,
            _ => 0,
        };
        return value != 0;
    }

    private static float ToFinite(string path, double value, string where)
    {
        float f = (float)value;
        if (!float.IsFinite(f))
        {
            string what = double.IsNaN(value) ? "NaN"
                : double.IsInfinity(value) ? value.ToString(CultureInfo.InvariantCulture)
                : $"{value.ToString("R", CultureInfo.InvariantCulture)}, too large for float32";
            throw new DataFormatException(path, $"{where} is {what}; reference values must be finite");
        }

        return f;
    }

    private static string Shorten(string s) => s.Length <= 20 ? s : s[..20] + "...";
}
