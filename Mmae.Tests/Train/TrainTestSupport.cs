using System.Buffers.Binary;
using System.IO.Compression;

namespace Mmae.Tests.Train;

/// <summary>A fresh folder under the system temp folder, deleted on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
        : this(System.IO.Path.GetTempPath())
    {
    }

    private TempFolder(string root)
    {
        Path = System.IO.Path.Combine(root, "mmae-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    /// <summary>A folder in memory (/dev/shm) where there is one, for tests that write many
    /// small files; else under the system temp folder.</summary>
    public static TempFolder InMemory() =>
        Directory.Exists("/dev/shm") ? new TempFolder("/dev/shm") : new TempFolder();

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder must not fail a test.
        }
    }
}

/// <summary>Builds IDX files and finds the repository's data folder.</summary>
internal static class TrainTestSupport
{
    /// <summary>Big-endian IDX bytes: magic, then each dimension, then the payload.</summary>
    public static byte[] Idx(int magic, int[] dims, byte[] payload)
    {
        byte[] bytes = new byte[4 + 4 * dims.Length + payload.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        for (int i = 0; i < dims.Length; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        }

        payload.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    public static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    public static byte[] Pattern(int length, int seed)
    {
        byte[] bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>The folder holding Mmae.sln, found by walking up from the test binaries.</summary>
    public static string RepoRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null)
        {
            if (System.IO.File.Exists(Path.Combine(dir, "Mmae.sln")))
            {
                return dir;
            }

            dir = Path.GetDirectoryName(dir.TrimEnd(Path.DirectorySeparatorChar));
        }

        throw new InvalidOperationException(
            $"Mmae.sln not found above {AppContext.BaseDirectory}");
    }

    /// <summary>Runs the <c>mmae</c> command line in-process; returns its exit code and output.
    /// </summary>
    public static (int Code, string Out, string Err) RunMmae(string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Mmae.Train.Cli.CommandLine.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Standard normal samples (Box-Muller), never exactly zero in practice.</summary>
    public static double NextGaussian(this Random random)
    {
        double u = 1.0 - random.NextDouble();
        double v = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u)) * Math.Cos(2.0 * Math.PI * v);
    }
}
