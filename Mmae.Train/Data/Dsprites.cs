using System.Globalization;

namespace Mmae.Train.Data;

/// <summary>
/// Reads dSprites (Matthey et al. 2017): binary 64 × 64 sprites with six latents, color, shape,
/// scale, orientation, posX, posY, of which color is constant and left out.
/// </summary>
/// <remarks>
/// Two layouts: DeepMind's <c>.npz</c> (<c>imgs</c> uint8 N×64×64, <c>latents_classes</c>
/// N×6 integers, <c>latents_values</c> N×6 floats), and a folder of
/// <c>images-idx3-ubyte(.gz)</c> with a <c>latents.csv</c> of one row per image, as
/// data/dsprites-random20k holds. Pixels are stored as 0 or 1 (not 0..255); any other value is
/// an error, since it means the file is not dSprites.
/// Factors: shape is discrete (square, ellipse, heart); scale, orientation, posX and posY are
/// continuous. The labels are the shape classes.
/// </remarks>
public static class Dsprites
{
    /// <summary>The file of latents in the IDX layout.</summary>
    public const string LatentsFileName = "latents.csv";

    private const int Side = 64;

    // Seed of the subset LoadNpz reads when given a maximum count.
    private const int SampleSeed = 2017;

    // Latent columns of the official arrays: 0 color, then these five.
    private static readonly string[] s_factorNames = ["shape", "scale", "orientation", "posX", "posY"];

    /// <summary>Reads the official <c>.npz</c> archive.</summary>
    /// <param name="path">The archive, for example
    /// <c>dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz</c>.</param>
    /// <param name="range">Where pixels 0 and 1 go.</param>
    /// <param name="maxCount">At most this many images, a fixed random subset kept in file
    /// order; null reads all. The full set (737,280 images) needs it: as floats it is more
    /// than one array holds.</param>
    /// <exception cref="ArgumentOutOfRangeException">maxCount is not positive.</exception>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="DataFormatException">Not a zip, a missing key, a wrong dtype or shape,
    /// counts that disagree, or a pixel that is not 0 or 1.</exception>
    public static Dataset LoadNpz(
        string path,
        PixelRange range = PixelRange.MinusOneToOne,
        int? maxCount = null)
    {
        if (maxCount is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxCount),
                $"Dsprites.LoadNpz: maxCount must be positive, got {maxCount}.");
        }

        Func<int, int[]?> rows = n => SampleRows(n, maxCount);
        using Npz npz = Npz.Open(path);
        NpyArray imgs = npz.Read("imgs", selectRows: rows, accept: (descr, shape) =>
            descr != "|u1" ? WrongDtype("uint8", descr)
            : shape.Length != 3 || shape[1] != Side || shape[2] != Side
                ? $"expected shape (N, {Side}, {Side}), found ({string.Join(", ", shape)})"
                : null);
        int n = imgs.Shape[0];
        NpyArray classes = npz.Read("latents_classes", (descr, shape) =>
            descr is not ("<i8" or "<i4") ? WrongDtype("int64", descr)
            : LatentShapeProblem(shape, imgs.Shape, maxCount), rows);
        NpyArray values = npz.Read("latents_values", (descr, shape) =>
            descr is not ("<f8" or "<f4") ? WrongDtype("float64", descr)
            : LatentShapeProblem(shape, imgs.Shape, maxCount), rows);

        if ((long)n * Side * Side > Array.MaxLength)
        {
            throw new DataFormatException(path,
                $"imgs: {n} images of {Side} x {Side} do not fit one array of floats; "
                + $"read at most {Array.MaxLength / (Side * Side)} (a maximum count)");
        }

        long[] c = classes.ToInt64();
        double[] v = values.ToDoubles();
        var classColumns = new int[s_factorNames.Length][];
        var valueColumns = new float[s_factorNames.Length][];
        for (int f = 0; f < s_factorNames.Length; f++)
        {
            classColumns[f] = new int[n];
            valueColumns[f] = new float[n];
            for (int i = 0; i < n; i++)
            {
                long k = c[6 * i + f + 1];
                if (k is < 0 or > 1000)
                {
                    throw new DataFormatException(path,
                        $"latents_classes[{i}, {f + 1}] = {k} is not a class index in 0..1000");
                }

                classColumns[f][i] = (int)k;
                valueColumns[f][i] = (float)v[6 * i + f + 1];
            }
        }

        return Build(path, "imgs", imgs.Raw, n, classColumns, valueColumns, range);
    }

    /// <summary>Reads a folder of <c>images-idx3-ubyte(.gz)</c> (N×64×64, pixels 0 or 1) and
    /// <c>latents.csv</c>.</summary>
    /// <param name="folder">The folder, for example data/dsprites-random20k.</param>
    /// <param name="range">Where pixels 0 and 1 go.</param>
    /// <remarks>
    /// <c>latents.csv</c> has a header line naming its columns; the reader needs shape, scale,
    /// orientation, posX, posY (class indices) and the same names with <c>_value</c> (latent
    /// values), in any order, and one row per image in the IDX file's order.
    /// </remarks>
    /// <exception cref="FileNotFoundException">A file is missing; the message names the path
    /// searched.</exception>
    /// <exception cref="IOException">A file cannot be read.</exception>
    /// <exception cref="DataFormatException">A malformed IDX file, images that are not
    /// 64 × 64, a pixel that is not 0 or 1, a missing column, a bad number, or a row count
    /// that differs from the image count.</exception>
    public static Dataset LoadFolder(string folder, PixelRange range = PixelRange.MinusOneToOne)
    {
        ArgumentNullException.ThrowIfNull(folder);
        string imagesPath = Dataset.FindFile(folder, Dataset.ImagesFileName);
        IdxImages images = IdxReader.ReadImages(imagesPath);
        if (images.Rows != Side || images.Cols != Side)
        {
            throw new DataFormatException(imagesPath,
                $"dSprites images are {Side} x {Side}, found {images.Rows} x {images.Cols}");
        }

        string csvPath = Path.Combine(folder, LatentsFileName);
        (int[][] classColumns, float[][] valueColumns) = ReadLatentsCsv(csvPath, images.Count);
        return Build(imagesPath, "images", images.Pixels, images.Count, classColumns, valueColumns,
            range);
    }

    private static (int[][] Classes, float[][] Values) ReadLatentsCsv(string path, int count)
    {
        using var reader = new StreamReader(DataFile.OpenRead(path));
        string? header = reader.ReadLine();
        if (header is null)
        {
            throw new DataFormatException(path, "empty file; expected a header line of column names");
        }

        string[] names = header.Split(',');
        int[] classAt = new int[s_factorNames.Length];
        int[] valueAt = new int[s_factorNames.Length];
        for (int f = 0; f < s_factorNames.Length; f++)
        {
            classAt[f] = Column(path, names, s_factorNames[f]);
            valueAt[f] = Column(path, names, s_factorNames[f] + "_value");
        }

        var classes = new int[s_factorNames.Length][];
        var values = new float[s_factorNames.Length][];
        for (int f = 0; f < s_factorNames.Length; f++)
        {
            classes[f] = new int[count];
            values[f] = new float[count];
        }

        int row = 0;
        for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            if (line.Length == 0)
            {
                continue;
            }

            if (row == count)
            {
                throw new DataFormatException(path,
                    $"more than {count} rows, but the images file holds {count} images");
            }

            string[] cells = line.Split(',');
            if (cells.Length != names.Length)
            {
                throw new DataFormatException(path,
                    $"line {row + 2}: {cells.Length} fields, the header names {names.Length}");
            }

            for (int f = 0; f < s_factorNames.Length; f++)
            {
                classes[f][row] = (int)Number(path, row, cells[classAt[f]], names[classAt[f]],
                    integer: true);
                values[f][row] = (float)Number(path, row, cells[valueAt[f]], names[valueAt[f]],
                    integer: false);
            }

            row++;
        }

        if (row != count)
        {
            throw new DataFormatException(path,
                $"has {row} rows, but the images file holds {count} images");
        }

        return (classes, values);
    }

    private static int Column(string path, string[] names, string name)
    {
        int at = Array.IndexOf(names, name);
        return at >= 0
            ? at
            : throw new DataFormatException(path,
                $"missing column '{name}' in the header; found: {string.Join(", ", names)}");
    }

    private static double Number(string path, int row, string cell, string column, bool integer)
    {
        bool ok = integer
            ? int.TryParse(cell, NumberStyles.None, CultureInfo.InvariantCulture, out int k)
                && k <= 1000
            : double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
                && double.IsFinite(v);
        if (!ok)
        {
            string expected = integer ? "a class index in 0..1000" : "a finite number";
            throw new DataFormatException(path,
                $"line {row + 2}, column {column}: '{cell}' is not {expected}");
        }

        return double.Parse(cell, NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    private static Dataset Build(
        string path,
        string what,
        byte[] pixels,
        int count,
        int[][] classColumns,
        float[][] valueColumns,
        PixelRange range)
    {
        int bad = pixels.AsSpan().IndexOfAnyExcept((byte)0, (byte)1);
        if (bad >= 0)
        {
            throw new DataFormatException(path,
                $"{what}: pixel {bad % (Side * Side)} of image {bad / (Side * Side)} is "
                + $"{pixels[bad]}; dSprites pixels are 0 or 1");
        }

        var factors = new Factor[s_factorNames.Length];
        for (int f = 0; f < factors.Length; f++)
        {
            FactorKind kind = f == 0 ? FactorKind.Discrete : FactorKind.Continuous;
            factors[f] = new Factor(s_factorNames[f], kind, classColumns[f], valueColumns[f]);
        }

        float[] features = PixelScaling.Scale(pixels, 1, range);
        return new Dataset("dsprites", count, Side * Side, features, classColumns[0],
            new ImageShape(1, Side, Side), new FactorTable(count, factors), range);
    }

    private static string WrongDtype(string expected, string found) =>
        $"expected dtype {expected}, found '{found}' ({NpyArray.DtypeName(found)})";

    // The latents must have as many rows as imgs had before any sampling (the sample of
    // maxCount rows then picks the same rows from both).
    private static string? LatentShapeProblem(int[] shape, int[] imgsShape, int? maxCount)
    {
        int kept = imgsShape[0];
        bool rowsMatch = shape.Length == 2 && (maxCount is null
            ? shape[0] == kept
            : Math.Min(shape[0], maxCount.Value) == kept);
        return rowsMatch && shape[1] == 6
            ? null
            : $"expected shape ({(maxCount is null ? kept.ToString() : "N")}, 6) to match imgs, "
                + $"found ({string.Join(", ", shape)})";
    }

    /// <summary>All n rows when they fit maxCount, else maxCount of them drawn with a fixed
    /// seed (so every read picks the same ones), ascending.</summary>
    private static int[]? SampleRows(int n, int? maxCount)
    {
        if (maxCount is not { } max || max >= n)
        {
            return null;
        }

        int[] all = Enumerable.Range(0, n).ToArray();
        new Random(SampleSeed).Shuffle(all);
        int[] rows = all[..max];
        Array.Sort(rows);
        return rows;
    }
}
