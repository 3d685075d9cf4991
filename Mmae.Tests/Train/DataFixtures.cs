using System.IO.Compression;
using System.Text;
using Xunit;

namespace Mmae.Tests.Train;

/// <summary>A fact that needs a folder of the shared real data sets; skipped with the path
/// searched when it is absent (CI machines do not have it).</summary>
public sealed class SharedDataFactAttribute : FactAttribute
{
    public SharedDataFactAttribute(string folder)
    {
        if (!Directory.Exists(DataFixtures.Shared(folder)))
        {
            Skip = $"needs the shared data folder {DataFixtures.Shared(folder)} "
                + "(set MMAE_SHARED_DATA to its parent)";
        }
    }
}

/// <summary>Builds small .npy, .npz, dSprites and CIFAR-10 files for reader tests.</summary>
internal static class DataFixtures
{
    /// <summary>A folder of the shared data sets: $MMAE_SHARED_DATA/name, else
    /// /work/shared/data/name.</summary>
    public static string Shared(string name) =>
        Path.Combine(Environment.GetEnvironmentVariable("MMAE_SHARED_DATA") ?? "/work/shared/data", name);

    /// <summary>Version 1.0 .npy bytes: header for descr and shape, then raw.</summary>
    public static byte[] NpyBytes(string descr, int[] shape, byte[] raw)
    {
        string dims = shape.Length == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape) + ")";
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {dims}, }}";
        int padded = (10 + dict.Length + 1 + 63) / 64 * 64;
        dict = dict.PadRight(padded - 10 - 1) + "\n";
        byte[] bytes = new byte[10 + dict.Length + raw.Length];
        new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 }.CopyTo(bytes, 0);
        BitConverter.TryWriteBytes(bytes.AsSpan(8), (ushort)dict.Length);
        Encoding.ASCII.GetBytes(dict, bytes.AsSpan(10));
        raw.CopyTo(bytes, 10 + dict.Length);
        return bytes;
    }

    public static byte[] Raw(long[] values) => values.SelectMany(BitConverter.GetBytes).ToArray();

    public static byte[] Raw(double[] values) => values.SelectMany(BitConverter.GetBytes).ToArray();

    /// <summary>A zip of entries key.npy, deflated or stored, as numpy.savez(_compressed)
    /// writes.</summary>
    public static byte[] NpzBytes(bool compressed, params (string Key, byte[] Npy)[] entries)
    {
        using var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach ((string key, byte[] npy) in entries)
            {
                ZipArchiveEntry entry = zip.CreateEntry(key + ".npy",
                    compressed ? CompressionLevel.Optimal : CompressionLevel.NoCompression);
                using Stream s = entry.Open();
                s.Write(npy);
            }
        }

        return output.ToArray();
    }

    /// <summary>A dSprites .npz of n images with pixels 0/1 and latents derived from the
    /// image index: shape i % 3, scale i % 6, orientation i % 40, posX i % 32, posY i / 2 % 32.
    /// </summary>
    public static (string Key, byte[] Npy)[] DspritesEntries(int n, byte[]? pixels = null)
    {
        pixels ??= Enumerable.Range(0, n * 4096).Select(i => (byte)((i * 7 + i / 64) % 3 == 0 ? 1 : 0))
            .ToArray();
        long[] classes = new long[n * 6];
        double[] values = new double[n * 6];
        for (int i = 0; i < n; i++)
        {
            long[] c = [0, i % 3, i % 6, i % 40, i % 32, i / 2 % 32];
            for (int f = 0; f < 6; f++)
            {
                classes[6 * i + f] = c[f];
                values[6 * i + f] = f switch
                {
                    0 => 1,
                    1 => c[1] + 1,
                    2 => 0.5 + 0.1 * c[2],
                    3 => 2 * Math.PI * c[3] / 39,
                    _ => c[f] / 31.0,
                };
            }
        }

        return
        [
            ("imgs", NpyBytes("|u1", [n, 64, 64], pixels)),
            ("latents_classes", NpyBytes("<i8", [n, 6], Raw(classes))),
            ("latents_values", NpyBytes("<f8", [n, 6], Raw(values))),
        ];
    }

    /// <summary>CIFAR-10 records: label i % 10, pixel p of image i = (i * 31 + p) % 256.</summary>
    public static byte[] CifarRecords(int first, int n)
    {
        byte[] bytes = new byte[n * 3073];
        for (int r = 0; r < n; r++)
        {
            int i = first + r;
            bytes[r * 3073] = (byte)(i % 10);
            for (int p = 0; p < 3072; p++)
            {
                bytes[r * 3073 + 1 + p] = (byte)((i * 31 + p) % 256);
            }
        }

        return bytes;
    }
}
