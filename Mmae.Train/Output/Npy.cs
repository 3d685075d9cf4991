using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Mmae.Train.Data;

namespace Mmae.Train.Output;

/// <summary>
/// Reads and writes NumPy <c>.npy</c> files of float32 or float64 arrays, so embeddings can be
/// opened with <c>numpy.load</c>.
/// </summary>
/// <remarks>
/// Layout: the magic <c>\x93NUMPY</c>, a version, a little-endian header length, then a Python
/// dict literal such as <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (10000, 2), }</c>
/// padded with spaces and a final newline so the data starts at a multiple of 64 bytes, then
/// the elements in C order.
/// </remarks>
public static class Npy
{
    private static readonly byte[] s_magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P',
        (byte)'Y'];

    // The data offset is aligned to this many bytes, as NumPy does since version 1.14.
    private const int HeaderAlignment = 64;

    /// <summary>Writes <paramref name="data"/> as a version 1.0 '&lt;f4' C-order array.</summary>
    /// <param name="path">Destination; written to a temporary file in the same folder and then
    /// renamed, so an existing file is replaced only by a complete one. A missing folder is
    /// created.</param>
    /// <param name="data">Elements in C (row-major) order.</param>
    /// <param name="shape">Array shape; its product must equal data.Length. An empty shape
    /// writes a 0-d array of one element.</param>
    /// <exception cref="ArgumentException">A dimension is negative or the shape's product is
    /// not data.Length.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static void Write(string path, float[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shape);
        long product = 1;
        foreach (int dim in shape)
        {
            if (dim < 0)
            {
                throw new ArgumentException(
                    $"Npy.Write: shape ({string.Join(", ", shape)}) has a negative dimension.",
                    nameof(shape));
            }

            product = checked(product * dim);
        }

        if (product != data.LongLength)
        {
            throw new ArgumentException(
                $"Npy.Write: shape ({string.Join(", ", shape)}) holds {product} elements but "
                + $"data has {data.LongLength}.", nameof(shape));
        }

        byte[] header = BuildHeader("<f4", shape);
        AtomicFile.Write(path, stream =>
        {
            stream.Write(header);
            byte[] buffer = new byte[1 << 16];
            for (int start = 0; start < data.Length; start += buffer.Length / 4)
            {
                int count = Math.Min(buffer.Length / 4, data.Length - start);
                for (int i = 0; i < count; i++)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(4 * i),
                        data[start + i]);
                }

                stream.Write(buffer, 0, 4 * count);
            }
        });
    }

    /// <summary>Reads a 1-D or 2-D C-order '&lt;f4' or '&lt;f8' array.</summary>
    /// <param name="path">A .npy file of format version 1.0, 2.0 or 3.0.</param>
    /// <returns>The elements widened to double, and the shape (one or two dimensions).</returns>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="IOException">The file cannot be opened or read.</exception>
    /// <exception cref="DataFormatException">Bad magic, unsupported version or dtype, Fortran
    /// order, a shape that is not 1-D or 2-D, a malformed header, or a data section shorter
    /// or longer than the shape says.</exception>
    public static (double[] Data, int[] Shape) Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using FileStream file = DataFile.OpenRead(path);
        byte[] prefix = new byte[12];
        int got = file.ReadAtLeast(prefix, 10, throwOnEndOfStream: false);
        if (got < 10 || !prefix.AsSpan(0, 6).SequenceEqual(s_magic))
        {
            throw new DataFormatException(path,
                "not a .npy file: expected magic \\x93NUMPY at the start");
        }

        int major = prefix[6];
        int headerLength;
        int lengthBytes;
        if (major == 1)
        {
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(prefix.AsSpan(8));
            lengthBytes = 2;
        }
        else if (major is 2 or 3)
        {
            if (got < 12)
            {
                throw new DataFormatException(path,
                    $"truncated header: version {major}.0 needs 12 bytes before the dict, "
                    + $"file has {got}");
            }

            uint length32 = BinaryPrimitives.ReadUInt32LittleEndian(prefix.AsSpan(8));
            if (length32 > file.Length)
            {
                throw new DataFormatException(path,
                    $"header length {length32} is longer than the file ({file.Length} bytes)");
            }

            headerLength = (int)length32;
            lengthBytes = 4;
        }
        else
        {
            throw new DataFormatException(path,
                $"unsupported .npy version {major}.{prefix[7]}; supported: 1.0, 2.0, 3.0");
        }

        long dataOffset = 8 + lengthBytes + headerLength;
        if (dataOffset > file.Length)
        {
            throw new DataFormatException(path,
                $"truncated header: needs {dataOffset} bytes, file has {file.Length}");
        }

        byte[] headerBytes = new byte[headerLength];
        file.Position = 8 + lengthBytes;
        file.ReadExactly(headerBytes);
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);
        (string descr, bool fortran, int[] shape) = NpyHeader.Parse(path, header);
        int itemSize = descr switch
        {
            "<f4" => 4,
            "<f8" => 8,
            _ => throw new DataFormatException(path,
                $"unsupported dtype '{descr}'; supported: '<f4' (float32), '<f8' (float64)"),
        };

        if (fortran)
        {
            throw new DataFormatException(path,
                "fortran_order is True; only C-order arrays are supported "
                + "(save with numpy.ascontiguousarray)");
        }

        if (shape.Length is < 1 or > 2)
        {
            throw new DataFormatException(path,
                $"shape ({string.Join(", ", shape)}) has {shape.Length} dimensions; "
                + "only 1-D and 2-D arrays are supported");
        }

        Int128 count = 1;
        foreach (int dim in shape)
        {
            count *= dim;
        }

        long available = file.Length - dataOffset;
        if (count * itemSize != available)
        {
            string what = count * itemSize > available ? "truncated data" : "trailing bytes";
            throw new DataFormatException(path,
                $"{what}: shape ({string.Join(", ", shape)}) of {descr} needs "
                + $"{count * itemSize} bytes after the {dataOffset}-byte header, "
                + $"found {available}");
        }

        if (count > Array.MaxLength)
        {
            throw new DataFormatException(path,
                $"shape ({string.Join(", ", shape)}) has more elements than one array can hold");
        }

        byte[] raw = new byte[available];
        file.ReadExactly(raw);
        double[] data = new double[(int)count];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = itemSize == 4
                ? BinaryPrimitives.ReadSingleLittleEndian(raw.AsSpan(4 * i))
                : BinaryPrimitives.ReadDoubleLittleEndian(raw.AsSpan(8 * i));
        }

        return (data, shape);
    }

    private static byte[] BuildHeader(string descr, int[] shape)
    {
        string dims = shape.Length switch
        {
            0 => "()",
            1 => $"({shape[0].ToString(CultureInfo.InvariantCulture)},)",
            _ => "(" + string.Join(", ",
                shape.Select(s => s.ToString(CultureInfo.InvariantCulture))) + ")",
        };
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {dims}, }}";

        // magic (6) + version (2) + length (2) + dict + padding + '\n' = multiple of 64.
        int unpadded = 10 + dict.Length + 1;
        int padded = (unpadded + HeaderAlignment - 1) / HeaderAlignment * HeaderAlignment;
        string text = dict + new string(' ', padded - unpadded) + "\n";
        if (text.Length > ushort.MaxValue)
        {
            throw new ArgumentException(
                $"Npy.Write: shape has {shape.Length} dimensions; the header does not fit "
                + "a version 1.0 file.", nameof(shape));
        }

        byte[] header = new byte[10 + text.Length];
        s_magic.CopyTo(header, 0);
        header[6] = 1;
        header[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(header.AsSpan(8), (ushort)text.Length);
        Encoding.ASCII.GetBytes(text, header.AsSpan(10));
        return header;
    }
}
