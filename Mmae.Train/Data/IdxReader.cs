using System.Buffers.Binary;
using System.IO.Compression;

namespace Mmae.Train.Data;

/// <summary>
/// Reads IDX files in the layout MNIST and Fashion-MNIST use: a big-endian header (magic
/// number, then one int32 per dimension) followed by unsigned bytes.
/// </summary>
/// <remarks>
/// A file may be raw or gzip-compressed; gzip is recognised by its first two bytes (1f 8b),
/// not by the file name. Every size in the header is checked against the file before the
/// payload is allocated, and the payload must fill the rest of the file exactly.
/// Limitation: only the unsigned-byte element type (magic 0x0000080n) is read, since that is
/// what the MNIST family uses; other IDX element types are reported as a wrong magic number.
/// </remarks>
public static class IdxReader
{
    /// <summary>Magic number of an IDX file of unsigned bytes with 3 dimensions (images).</summary>
    public const int ImagesMagic = 0x00000803;

    /// <summary>Magic number of an IDX file of unsigned bytes with 1 dimension (labels).</summary>
    public const int LabelsMagic = 0x00000801;

    // Deflate cannot expand data by more than about 1032:1 (a 258-byte match in under
    // two bits), so a gzip file of L bytes cannot hold more than this many bytes per byte.
    private const long MaxDeflateExpansion = 1032;

    // First buffer for a gzip payload; it doubles as data arrives, up to the header's size.
    private const int InitialGzipBuffer = 1 << 20;

    private const int GzipMagic0 = 0x1f;
    private const int GzipMagic1 = 0x8b;

    /// <summary>Reads an IDX images file (magic 0x00000803: count, rows, cols).</summary>
    /// <param name="path">Raw or gzip-compressed IDX file.</param>
    /// <returns>The images, pixels exactly as stored.</returns>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="IOException">The file cannot be opened or read.</exception>
    /// <exception cref="DataFormatException">Wrong magic number, a header dimension that is not
    /// positive, a payload shorter or longer than the header says, or a corrupt gzip
    /// stream.</exception>
    public static IdxImages ReadImages(string path)
    {
        (int[] dims, byte[] data) = Read(path, ImagesMagic, 3);
        return new IdxImages(dims[0], dims[1], dims[2], data);
    }

    /// <summary>Reads an IDX labels file (magic 0x00000801: count).</summary>
    /// <param name="path">Raw or gzip-compressed IDX file.</param>
    /// <returns>One byte per label, as stored.</returns>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="IOException">The file cannot be opened or read.</exception>
    /// <exception cref="DataFormatException">Wrong magic number, a count that is not positive,
    /// a payload shorter or longer than the count, or a corrupt gzip stream.</exception>
    public static byte[] ReadLabels(string path)
    {
        return Read(path, LabelsMagic, 1).Data;
    }

    private static (int[] Dims, byte[] Data) Read(string path, int magic, int rank)
    {
        using FileStream file = DataFile.OpenRead(path);
        try
        {
            bool gzip = IsGzip(file);
            using Stream stream = gzip
                ? new GZipStream(file, CompressionMode.Decompress, leaveOpen: true)
                : file;
            return ReadBody(path, stream, gzip, file.Length, magic, rank);
        }
        catch (InvalidDataException ex)
        {
            throw new DataFormatException(
                path, $"corrupt gzip stream ({DataFile.OneLine(ex.Message)})", ex);
        }
        catch (IOException ex) when (ex is not FileNotFoundException)
        {
            throw new IOException($"{path}: read failed ({DataFile.OneLine(ex.Message)})", ex);
        }
    }

    private static bool IsGzip(FileStream file)
    {
        Span<byte> head = stackalloc byte[2];
        int got = file.ReadAtLeast(head, 2, throwOnEndOfStream: false);
        file.Position = 0;
        return got == 2 && head[0] == GzipMagic0 && head[1] == GzipMagic1;
    }

    private static (int[] Dims, byte[] Data) ReadBody(
        string path, Stream stream, bool gzip, long fileLength, int magic, int rank)
    {
        // Header: magic, then one big-endian int32 per dimension.
        int headerBytes = 4 * (1 + rank);
        byte[] header = new byte[headerBytes];
        int got = stream.ReadAtLeast(header, headerBytes, throwOnEndOfStream: false);
        if (got < 4)
        {
            throw new DataFormatException(path,
                $"too short for an IDX header: needs at least 4 bytes, has {got}");
        }

        int found = BinaryPrimitives.ReadInt32BigEndian(header);
        if (found != magic)
        {
            throw new DataFormatException(path,
                $"expected magic {Hex(magic)} ({Describe(magic)}), found {Hex(found)}"
                + KnownMagicHint(found));
        }

        if (got < headerBytes)
        {
            throw new DataFormatException(path,
                $"IDX header truncated: needs {headerBytes} bytes, has {got}");
        }

        // Sizes: each positive, product computed without overflow.
        string[] names = rank == 3 ? ["count", "rows", "cols"] : ["count"];
        int[] dims = new int[rank];
        Int128 payload = 1;
        for (int i = 0; i < rank; i++)
        {
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4 * (i + 1)));
            if (dims[i] <= 0)
            {
                throw new DataFormatException(path,
                    $"header {names[i]} must be positive, found {dims[i]}");
            }

            payload *= dims[i];
        }

        string shape = string.Join(" x ", dims);
        if (payload > Array.MaxLength)
        {
            throw new DataFormatException(path,
                $"header shape {shape} needs {payload} bytes, more than one array can hold "
                + $"({Array.MaxLength})");
        }

        long expected = (long)payload;
        if (!gzip)
        {
            long remaining = fileLength - headerBytes;
            if (remaining != expected)
            {
                throw SizeMismatch(path, shape, expected, remaining, headerBytes);
            }
        }
        else if (expected > fileLength * MaxDeflateExpansion)
        {
            // Checked before allocating, so a tiny file cannot make us allocate gigabytes.
            throw new DataFormatException(path,
                $"header shape {shape} needs {expected} bytes, but a gzip file of "
                + $"{fileLength} bytes holds at most {fileLength * MaxDeflateExpansion}; "
                + "the file is truncated or the header is corrupt");
        }

        // A gzip payload's size is known only by inflating it, so its buffer grows with the bytes
        // that actually arrive instead of trusting the header: a forged count costs no memory.
        byte[] data = new byte[gzip ? Math.Min(expected, InitialGzipBuffer) : expected];
        int read = 0;
        while (true)
        {
            read += stream.ReadAtLeast(data.AsSpan(read), data.Length - read, throwOnEndOfStream: false);
            if (read < data.Length || data.Length == expected)
            {
                break;
            }

            Array.Resize(ref data, (int)Math.Min(expected, 2L * data.Length));
        }

        long actual = read + (read == expected ? CountRemaining(stream) : 0);
        if (actual != expected)
        {
            throw SizeMismatch(path, shape, expected, actual, headerBytes);
        }

        return (dims, data);
    }

    private static long CountRemaining(Stream stream)
    {
        byte[] buffer = new byte[1 << 16];
        long total = 0;
        int n;
        while ((n = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            total += n;
        }

        return total;
    }

    private static DataFormatException SizeMismatch(
        string path, string shape, long expected, long actual, int headerBytes)
    {
        string what = actual < expected
            ? "truncated"
            : $"{actual - expected} trailing bytes";
        return new DataFormatException(path,
            $"{what}: header shape {shape} needs {expected} bytes after the {headerBytes}-byte "
            + $"header, found {actual}");
    }

    private static string Hex(int value) => $"0x{value:X8}";

    private static string Describe(int magic) =>
        magic == ImagesMagic ? "IDX images" : "IDX labels";

    private static string KnownMagicHint(int found) => found switch
    {
        ImagesMagic => " (IDX images)",
        LabelsMagic => " (IDX labels)",
        _ => "",
    };
}
