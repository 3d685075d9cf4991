using System.Buffers.Binary;
using System.Text;
using Mmae.Train.Output;

namespace Mmae.Train.Data;

/// <summary>
/// One array read from a NumPy <c>.npy</c> file or from an entry of a <c>.npz</c> archive: its
/// dtype, its shape and its elements as stored (little-endian, C order).
/// </summary>
/// <remarks>
/// Supported dtypes: <c>|u1</c> (uint8), <c>|b1</c> (bool), <c>|i1</c>, <c>&lt;i4</c>,
/// <c>&lt;i8</c>, <c>&lt;f4</c>, <c>&lt;f8</c>, any number of dimensions.
/// Limitation: big-endian, unsigned wider than one byte, float16, complex, string and
/// structured dtypes are rejected, since no data set Mmae reads uses them.
/// </remarks>
public sealed class NpyArray
{
    private static readonly byte[] s_magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P',
        (byte)'Y'];

    private static readonly Dictionary<string, int> s_itemSizes = new()
    {
        ["|u1"] = 1, ["|b1"] = 1, ["|i1"] = 1, ["<i4"] = 4, ["<i8"] = 8, ["<f4"] = 4, ["<f8"] = 8,
    };

    private NpyArray(string source, string descr, int[] shape, byte[] raw)
    {
        Source = source;
        Descr = descr;
        Shape = shape;
        Raw = raw;
    }

    /// <summary>Where the array came from, as used in error messages (a path, or
    /// <c>archive.npz:key</c>).</summary>
    public string Source { get; }

    /// <summary>The NumPy dtype string, for example <c>|u1</c> or <c>&lt;f8</c>.</summary>
    public string Descr { get; }

    /// <summary>The array's shape; empty for a 0-d array.</summary>
    public int[] Shape { get; }

    /// <summary>The elements as stored: little-endian, C order.</summary>
    public byte[] Raw { get; }

    /// <summary>Number of elements (the product of the shape).</summary>
    public int Count => Raw.Length / s_itemSizes[Descr];

    /// <summary>The shape as NumPy prints it, for example <c>(20000, 64, 64)</c>.</summary>
    public string ShapeText => FormatShape(Shape);

    /// <summary>A friendly name of a dtype string: <c>|u1</c> is uint8.</summary>
    /// <param name="descr">A NumPy dtype string.</param>
    public static string DtypeName(string descr) => descr switch
    {
        "|u1" => "uint8",
        "|b1" => "bool",
        "|i1" => "int8",
        "<i4" => "int32",
        "<i8" => "int64",
        "<f4" => "float32",
        "<f8" => "float64",
        _ => descr,
    };

    /// <summary>Reads a .npy file of any supported dtype and rank.</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="IOException">The file cannot be opened or read.</exception>
    /// <exception cref="DataFormatException">Not a .npy file, an unsupported version or dtype,
    /// Fortran order, a malformed header, or a data section shorter or longer than the
    /// shape says.</exception>
    public static NpyArray Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using FileStream file = DataFile.OpenRead(path);
        return Read(path, path, file, file.Length, accept: null);
    }

    /// <summary>Reads one array from <paramref name="stream"/>, which holds exactly
    /// <paramref name="length"/> bytes of .npy file (it need not be seekable).</summary>
    /// <param name="path">The file named in errors.</param>
    /// <param name="source">The name given to <see cref="Source"/>.</param>
    /// <param name="stream">The bytes, from the magic on.</param>
    /// <param name="length">How many bytes the stream holds.</param>
    /// <param name="accept">Called with the dtype and shape once the header is parsed; a
    /// non-null answer is the problem reported instead of reading the data.</param>
    /// <param name="selectRows">Given the first dimension n, the rows to keep (ascending,
    /// distinct, in 0..n−1), or null to keep all; the others are read past, never stored.</param>
    internal static NpyArray Read(
        string path,
        string source,
        Stream stream,
        long length,
        Func<string, int[], string?>? accept,
        Func<int, int[]?>? selectRows = null)
    {
        // Prefix: magic (6), version (2), header length (2 in version 1, 4 in versions 2 and 3).
        byte[] prefix = new byte[12];
        int got = stream.ReadAtLeast(prefix.AsSpan(0, 10), 10, throwOnEndOfStream: false);
        if (got < 10 || !prefix.AsSpan(0, 6).SequenceEqual(s_magic))
        {
            throw new DataFormatException(path,
                $"{Prefix(path, source)}not a .npy file: expected magic \\x93NUMPY at the start");
        }

        int major = prefix[6];
        long headerLength;
        int lengthBytes;
        if (major == 1)
        {
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(prefix.AsSpan(8));
            lengthBytes = 2;
        }
        else if (major is 2 or 3)
        {
            if (length < 12 || stream.ReadAtLeast(prefix.AsSpan(10, 2), 2, false) < 2)
            {
                throw new DataFormatException(path,
                    $"{Prefix(path, source)}truncated header: version {major}.0 needs 12 bytes "
                    + $"before the dict, has {Math.Min(length, 10)}");
            }

            headerLength = BinaryPrimitives.ReadUInt32LittleEndian(prefix.AsSpan(8));
            lengthBytes = 4;
        }
        else
        {
            throw new DataFormatException(path,
                $"{Prefix(path, source)}unsupported .npy version {major}.{prefix[7]}; "
                + "supported: 1.0, 2.0, 3.0");
        }

        long dataOffset = 8 + lengthBytes + headerLength;
        if (dataOffset > length)
        {
            throw new DataFormatException(path,
                $"{Prefix(path, source)}truncated header: needs {dataOffset} bytes, "
                + $"file has {length}");
        }

        byte[] headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);
        (string descr, bool fortran, int[] shape) = NpyHeader.Parse(path, header);
        string? refused = accept?.Invoke(descr, shape);
        if (refused is not null)
        {
            throw new DataFormatException(path, Prefix(path, source) + refused);
        }

        if (!s_itemSizes.TryGetValue(descr, out int itemSize))
        {
            throw new DataFormatException(path,
                $"{Prefix(path, source)}unsupported dtype '{descr}'; supported: "
                + string.Join(", ", s_itemSizes.Keys.Select(d => $"'{d}' ({DtypeName(d)})")));
        }

        if (fortran)
        {
            throw new DataFormatException(path,
                $"{Prefix(path, source)}fortran_order is True; only C-order arrays are "
                + "supported (save with numpy.ascontiguousarray)");
        }

        Int128 count = 1;
        foreach (int dim in shape)
        {
            count *= dim;
        }

        long available = length - dataOffset;
        if (count * itemSize != available)
        {
            string what = count * itemSize > available ? "truncated data" : "trailing bytes";
            throw new DataFormatException(path,
                $"{Prefix(path, source)}{what}: shape {FormatShape(shape)} of {descr} needs "
                + $"{count * itemSize} bytes after the {dataOffset}-byte header, "
                + $"found {available}");
        }

        int[]? rows = shape.Length > 0 ? selectRows?.Invoke(shape[0]) : null;
        long rowBytes = shape.Length > 0 && shape[0] > 0 ? available / shape[0] : available;
        long kept = rows is null ? available : rows.Length * rowBytes;
        if (kept > Array.MaxLength)
        {
            throw new DataFormatException(path,
                $"{Prefix(path, source)}shape {FormatShape(shape)} needs {kept} bytes, "
                + "more than one array can hold; read fewer rows");
        }

        byte[] raw = new byte[kept];
        if (rows is null)
        {
            ReadFully(path, source, stream, raw);
            return new NpyArray(source, descr, shape, raw);
        }

        // Stream past the rows not kept, so a subset of a huge array needs only its own memory.
        byte[] skip = new byte[Math.Min(rowBytes, 1 << 20)];
        int next = 0;
        for (int r = 0; r < shape[0] && next < rows.Length; r++)
        {
            if (rows[next] == r)
            {
                ReadFully(path, source, stream, raw.AsSpan((int)(next * rowBytes), (int)rowBytes));
                next++;
                continue;
            }

            for (long left = rowBytes; left > 0; left -= skip.Length)
            {
                ReadFully(path, source, stream, skip.AsSpan(0, (int)Math.Min(left, skip.Length)));
            }
        }

        return new NpyArray(source, descr, [rows.Length, .. shape[1..]], raw);
    }

    private static void ReadFully(string path, string source, Stream stream, Span<byte> destination)
    {
        int read = stream.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
        if (read < destination.Length)
        {
            throw new DataFormatException(path,
                $"{Prefix(path, source)}truncated data: expected {destination.Length} more bytes, "
                + $"read {read}");
        }
    }

    /// <summary>The elements widened to double (any supported dtype).</summary>
    public double[] ToDoubles()
    {
        double[] result = new double[Count];
        ReadOnlySpan<byte> raw = Raw;
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = Descr switch
            {
                "|u1" or "|b1" => raw[i],
                "|i1" => (sbyte)raw[i],
                "<i4" => BinaryPrimitives.ReadInt32LittleEndian(raw[(4 * i)..]),
                "<i8" => BinaryPrimitives.ReadInt64LittleEndian(raw[(8 * i)..]),
                "<f4" => BinaryPrimitives.ReadSingleLittleEndian(raw[(4 * i)..]),
                _ => BinaryPrimitives.ReadDoubleLittleEndian(raw[(8 * i)..]),
            };
        }

        return result;
    }

    /// <summary>The elements as 64-bit integers.</summary>
    /// <exception cref="DataFormatException">The dtype is a float type.</exception>
    public long[] ToInt64()
    {
        if (Descr is "<f4" or "<f8")
        {
            throw new DataFormatException(Source,
                $"expected an integer dtype, found '{Descr}' ({DtypeName(Descr)})");
        }

        return Array.ConvertAll(ToDoubles(), v => (long)v);
    }

    private static string Prefix(string path, string source) =>
        source == path ? "" : $"{source[(path.Length + 1)..]}: ";

    private static string FormatShape(int[] shape) => shape.Length == 1
        ? $"({shape[0]},)"
        : "(" + string.Join(", ", shape) + ")";
}
