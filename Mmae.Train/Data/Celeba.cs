using System.Globalization;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Mmae.Train.Data;

/// <summary>
/// Reads CelebA (Liu et al. 2015): a folder of aligned face images with
/// <c>list_attr_celeba.txt</c>, whose 40 ±1 attributes become binary factors.
/// </summary>
/// <remarks>
/// <c>list_attr_celeba.txt</c>: line 1 the image count, line 2 the attribute names, then one
/// line per image, <c>file v1 … v40</c> with each v −1 or 1, separated by spaces. Images (JPEG
/// or PNG) are looked up beside the file or in its <c>img_align_celeba</c> subfolder, cut to
/// their central square and resized to size × size (bicubic), planes R, G, B. The labels are
/// the <c>Male</c> attribute as 0/1 when present, else 0.
/// Limitation: images are decoded into memory at once, so count × 3 × size² floats must fit one
/// array (at size 256, about 10,900 images); pass maxCount to read the first ones.
/// Get the data from https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html ("Align&amp;Cropped
/// Images" and "Anno/list_attr_celeba.txt").
/// </remarks>
public static class Celeba
{
    /// <summary>The attributes file.</summary>
    public const string AttributesFileName = "list_attr_celeba.txt";

    /// <summary>The subfolder of images in the official archive.</summary>
    public const string ImagesFolderName = "img_align_celeba";

    // An image name is a plain file name: no folder separators (of either system), no NUL.
    private static readonly char[] s_notInFileNames =
        [.. Path.GetInvalidFileNameChars(), '/', '\\', ':'];

    /// <summary>Reads the first <paramref name="maxCount"/> images listed in the attributes
    /// file of <paramref name="folder"/>.</summary>
    /// <param name="folder">Folder holding list_attr_celeba.txt.</param>
    /// <param name="size">Side of the square images produced, in pixels.</param>
    /// <param name="range">Where pixels 0 and 255 go.</param>
    /// <param name="maxCount">At most this many images (the first listed); null reads
    /// all.</param>
    /// <exception cref="ArgumentOutOfRangeException">size or maxCount is not
    /// positive.</exception>
    /// <exception cref="FileNotFoundException">The attributes file or an image is
    /// missing.</exception>
    /// <exception cref="IOException">A file cannot be read.</exception>
    /// <exception cref="DataFormatException">A malformed attributes file, an image that cannot
    /// be decoded, or more pixels than one array holds.</exception>
    public static Dataset Load(
        string folder,
        int size,
        PixelRange range = PixelRange.MinusOneToOne,
        int? maxCount = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        if (maxCount is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxCount),
                $"Celeba.Load: maxCount must be positive, got {maxCount}.");
        }

        string attrPath = Path.Combine(folder, AttributesFileName);
        (string[] names, string[] files, sbyte[] attrs) = ReadAttributes(attrPath, maxCount);
        int count = files.Length;
        int dim = 3 * size * size;
        if ((long)count * dim > Array.MaxLength)
        {
            throw new DataFormatException(attrPath,
                $"{count} images of 3 x {size} x {size} do not fit one array; read at most "
                + $"{Array.MaxLength / dim} images or choose a smaller size");
        }

        string imageFolder = Directory.Exists(Path.Combine(folder, ImagesFolderName))
            ? Path.Combine(folder, ImagesFolderName)
            : folder;
        float[] table = PixelScaling.Table(255, range);
        float[] features = new float[(long)count * dim];
        for (int i = 0; i < count; i++)
        {
            DecodeInto(Path.Combine(imageFolder, files[i]), size, table,
                features.AsSpan(i * dim, dim));
        }

        var factors = new Factor[names.Length];
        for (int a = 0; a < names.Length; a++)
        {
            int[] classes = new int[count];
            float[] values = new float[count];
            for (int i = 0; i < count; i++)
            {
                values[i] = attrs[i * names.Length + a];
                classes[i] = values[i] > 0 ? 1 : 0;
            }

            factors[a] = new Factor(names[a], FactorKind.Binary, classes, values);
        }

        int male = Array.IndexOf(names, "Male");
        int[] labels = male >= 0 ? factors[male].Classes : new int[count];
        return new Dataset("celeba", count, dim, features, labels, new ImageShape(3, size, size),
            new FactorTable(count, factors), range);
    }

    private static (string[] Names, string[] Files, sbyte[] Attrs) ReadAttributes(
        string path,
        int? maxCount)
    {
        using var reader = new StreamReader(DataFile.OpenRead(path));
        string? first = reader.ReadLine();
        if (!int.TryParse(first?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture,
            out int declared) || declared <= 0)
        {
            throw new DataFormatException(path,
                $"line 1: expected the image count, found '{first}'");
        }

        string[] names = Fields(reader.ReadLine());
        if (names.Length == 0)
        {
            throw new DataFormatException(path, "line 2: expected the attribute names, found none");
        }

        // Lists grow with the lines actually there, so a forged count costs no memory.
        int count = Math.Min(declared, maxCount ?? int.MaxValue);
        var files = new List<string>();
        var attrs = new List<sbyte>();
        for (int i = 0; i < count; i++)
        {
            int line = i + 3;
            string[] fields = Fields(reader.ReadLine());
            if (fields.Length == 0)
            {
                throw new DataFormatException(path,
                    $"line {line}: file ends, but line 1 declares {declared} images");
            }

            if (fields.Length != names.Length + 1)
            {
                throw new DataFormatException(path,
                    $"line {line}: expected a file name and {names.Length} values, "
                    + $"found {fields.Length} fields");
            }

            if (fields[0].IndexOfAny(s_notInFileNames) >= 0 || fields[0] is "." or "..")
            {
                throw new DataFormatException(path,
                    $"line {line}: '{fields[0]}' is not a plain image file name");
            }

            files.Add(fields[0]);

            for (int a = 0; a < names.Length; a++)
            {
                attrs.Add(fields[a + 1] switch
                {
                    "1" => 1,
                    "-1" => -1,
                    _ => throw new DataFormatException(path,
                        $"line {line}: attribute {names[a]} is '{fields[a + 1]}', expected 1 or -1"),
                });
            }
        }

        return (names, files.ToArray(), attrs.ToArray());
    }

    private static string[] Fields(string? line) =>
        line?.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
        ?? [];

    // Central square, resized to size x size, written as planes R, G, B through the table.
    private static void DecodeInto(string path, int size, float[] table, Span<float> dst)
    {
        using FileStream file = DataFile.OpenRead(path);
        Image<Rgb24> image;
        try
        {
            image = Image.Load<Rgb24>(file);
        }
        catch (Exception ex) when (ex is UnknownImageFormatException or InvalidImageContentException
            or NotSupportedException)
        {
            throw new DataFormatException(path,
                $"cannot decode the image ({DataFile.OneLine(ex.Message)})", ex);
        }

        using (image)
        {
            int side = Math.Min(image.Width, image.Height);
            var square = new Rectangle((image.Width - side) / 2, (image.Height - side) / 2, side, side);
            image.Mutate(x => x.Crop(square).Resize(size, size, KnownResamplers.Bicubic));
            var pixels = new Rgb24[size * size];
            image.CopyPixelDataTo(pixels);
            int plane = size * size;
            for (int p = 0; p < plane; p++)
            {
                dst[p] = table[pixels[p].R];
                dst[plane + p] = table[pixels[p].G];
                dst[2 * plane + p] = table[pixels[p].B];
            }
        }
    }
}
