namespace Mmae.Train.Data;

/// <summary>
/// Reads CIFAR-10 in its binary version (<c>cifar-10-batches-bin</c>): files of 3073-byte
/// records, each one label byte then 1024 red, 1024 green and 1024 blue bytes (32 × 32, rows
/// top to bottom), with no header.
/// </summary>
/// <remarks>
/// Every <c>*.bin</c> file of the folder is read, in ordinal name order (so the official
/// <c>data_batch_1..5</c> come before <c>test_batch</c>). <c>batches.meta.txt</c>, when present,
/// names the classes one per line and bounds the labels; without it labels must be 0..9.
/// Get the data from https://www.cs.toronto.edu/~kriz/cifar.html ("CIFAR-10 binary version").
/// </remarks>
public static class Cifar10
{
    /// <summary>Bytes per record: one label and 3 × 32 × 32 pixels.</summary>
    public const int RecordBytes = 1 + PixelBytes;

    /// <summary>The class names file.</summary>
    public const string MetaFileName = "batches.meta.txt";

    private const int Side = 32;
    private const int PixelBytes = 3 * Side * Side;
    private const int DefaultClasses = 10;

    /// <summary>The <c>*.bin</c> files of <paramref name="folder"/>, in the order they are
    /// read.</summary>
    /// <param name="folder">A folder of CIFAR-10 binary batches.</param>
    public static string[] BatchFiles(string folder) =>
        Directory.GetFiles(folder, "*.bin").Order(StringComparer.Ordinal).ToArray();

    /// <summary>Reads every batch file of <paramref name="folder"/>.</summary>
    /// <param name="folder">A folder of <c>*.bin</c> batches (and optionally
    /// <c>batches.meta.txt</c>).</param>
    /// <param name="range">Where pixels 0 and 255 go.</param>
    /// <returns>Images of shape 3 × 32 × 32 (planes R, G, B) with their class labels.</returns>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">The folder holds no <c>*.bin</c> file.</exception>
    /// <exception cref="IOException">A file cannot be read.</exception>
    /// <exception cref="DataFormatException">A file's length is not a multiple of 3073 bytes, or
    /// a label is not a class index.</exception>
    public static Dataset Load(string folder, PixelRange range = PixelRange.MinusOneToOne)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException(
                $"{folder}: CIFAR-10 folder not found (searched {Path.GetFullPath(folder)})");
        }

        string[] files = BatchFiles(folder);
        if (files.Length == 0)
        {
            throw new FileNotFoundException(
                $"{folder}: no *.bin batch files (searched {Path.GetFullPath(folder)}); "
                + "get cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html");
        }

        int classes = ClassNames(folder)?.Length ?? DefaultClasses;
        var pixels = new List<byte[]>();
        var labels = new List<int>();
        foreach (string file in files)
        {
            byte[] bytes = ReadAll(file);
            if (bytes.Length == 0 || bytes.Length % RecordBytes != 0)
            {
                throw new DataFormatException(file,
                    $"length {bytes.Length} is not a positive multiple of the {RecordBytes}-byte "
                    + "CIFAR-10 record (1 label byte + 3072 pixel bytes); truncated or not CIFAR-10");
            }

            for (int r = 0; r < bytes.Length / RecordBytes; r++)
            {
                int label = bytes[r * RecordBytes];
                if (label >= classes)
                {
                    throw new DataFormatException(file,
                        $"record {r}: label {label} is not a class index in 0..{classes - 1}");
                }

                labels.Add(label);
            }

            pixels.Add(bytes);
        }

        // Drop each record's label byte; the planes are already R, G, B as Dataset wants.
        byte[] all = new byte[(long)labels.Count * PixelBytes];
        long at = 0;
        foreach (byte[] bytes in pixels)
        {
            for (int r = 0; r < bytes.Length / RecordBytes; r++, at += PixelBytes)
            {
                Array.Copy(bytes, r * RecordBytes + 1, all, at, PixelBytes);
            }
        }

        float[] features = PixelScaling.Scale(all, 255, range);
        return new Dataset("cifar10", labels.Count, PixelBytes, features, labels.ToArray(),
            new ImageShape(3, Side, Side), pixelRange: range);
    }

    /// <summary>The class names listed in <c>batches.meta.txt</c>, or null without that
    /// file.</summary>
    /// <param name="folder">The CIFAR-10 folder.</param>
    /// <exception cref="DataFormatException">The file lists no name.</exception>
    public static string[]? ClassNames(string folder)
    {
        string path = Path.Combine(folder, MetaFileName);
        if (!File.Exists(path))
        {
            return null;
        }

        string[] names = File.ReadAllLines(path).Where(l => l.Trim().Length > 0).ToArray();
        return names.Length is > 0 and <= 256
            ? names
            : throw new DataFormatException(path,
                $"expected 1..256 class names, one per line, found {names.Length}");
    }

    private static byte[] ReadAll(string path)
    {
        using FileStream file = DataFile.OpenRead(path);
        if (file.Length > Array.MaxLength)
        {
            throw new DataFormatException(path, $"file of {file.Length} bytes is too large to read");
        }

        byte[] bytes = new byte[file.Length];
        file.ReadExactly(bytes);
        return bytes;
    }
}
