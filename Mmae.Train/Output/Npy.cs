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
        NpyArray array = NpyArray.Read(path, path, file, file.Length, (descr, shape) =>
        {
            if (descr is not ("<f4" or "<f8"))
            {
                return $"unsupported dtype '{descr}'; supported: '<f4' (float32), '<f8' (float64)";
            }

            return shape.Length is < 1 or > 2
                ? $"shape ({string.Join(", ", shape)}) has {shape.Length} dimensions; "
                    + "only 1-D and 2-D arrays are supported"
                : null;
        });
        return (array.ToDoubles(), array.Shape);
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
