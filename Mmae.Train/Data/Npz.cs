using System.IO.Compression;

namespace Mmae.Train.Data;

/// <summary>
/// Reads NumPy <c>.npz</c> archives: a zip file whose entries <c>key.npy</c> are .npy files, as
/// <c>numpy.savez</c> (stored) and <c>numpy.savez_compressed</c> (deflated) write them.
/// </summary>
public sealed class Npz : IDisposable
{
    // Deflate cannot expand data by more than about 1032:1, so an entry that claims more is
    // rejected before anything is allocated for it.
    private const long MaxDeflateExpansion = 1032;

    private readonly FileStream _file;
    private readonly ZipArchive _zip;

    private Npz(string path, FileStream file, ZipArchive zip)
    {
        Path = path;
        _file = file;
        _zip = zip;
    }

    /// <summary>The archive, as the caller named it.</summary>
    public string Path { get; }

    /// <summary>The keys of the arrays in the archive (entry names without ".npy").</summary>
    public IEnumerable<string> Keys =>
        _zip.Entries.Select(e => e.FullName.EndsWith(".npy", StringComparison.Ordinal)
            ? e.FullName[..^4]
            : e.FullName);

    /// <summary>Opens <paramref name="path"/> and reads its zip directory.</summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="IOException">The file cannot be opened or read.</exception>
    /// <exception cref="DataFormatException">The file is not a zip archive.</exception>
    public static Npz Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        FileStream file = DataFile.OpenRead(path);
        try
        {
            var zip = new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: true);

            // The central directory is read on first use; read it here so its damage is
            // reported as this file's format error.
            _ = zip.Entries.Count;
            return new Npz(path, file, zip);
        }
        catch (InvalidDataException ex)
        {
            file.Dispose();
            throw new DataFormatException(path,
                $"not a .npz file (zip archive): {DataFile.OneLine(ex.Message)}", ex);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Reads the array stored under <paramref name="key"/>.</summary>
    /// <param name="key">The array's name, for example <c>imgs</c>.</param>
    /// <param name="accept">Called with dtype and shape once the header is read; a non-null
    /// answer is reported as the problem, before the data are read.</param>
    /// <param name="selectRows">Given the first dimension n, the rows to keep (ascending,
    /// distinct), or null for all; rows not kept are streamed past, never stored.</param>
    /// <exception cref="DataFormatException">No such key (the message lists the keys present),
    /// a corrupt entry, or a malformed .npy inside.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public NpyArray Read(
        string key,
        Func<string, int[], string?>? accept = null,
        Func<int, int[]?>? selectRows = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        ZipArchiveEntry? entry = _zip.GetEntry(key + ".npy") ?? _zip.GetEntry(key);
        if (entry is null)
        {
            throw new DataFormatException(Path,
                $"missing key '{key}'; the archive holds: {string.Join(", ", Keys)}");
        }

        if (entry.CompressedLength > _file.Length
            || entry.Length > Math.Max(entry.CompressedLength, 1) * MaxDeflateExpansion)
        {
            throw new DataFormatException(Path,
                $"{key}: entry claims {entry.Length} bytes from {entry.CompressedLength} "
                + $"compressed bytes in a {_file.Length}-byte file, which cannot be; "
                + "the archive is corrupt");
        }

        try
        {
            using Stream stream = entry.Open();
            return NpyArray.Read(Path, $"{Path}:{key}", stream, entry.Length, accept, selectRows);
        }
        catch (InvalidDataException ex)
        {
            throw new DataFormatException(Path,
                $"{key}: corrupt zip entry ({DataFile.OneLine(ex.Message)})", ex);
        }
        catch (EndOfStreamException ex)
        {
            throw new DataFormatException(Path, $"{key}: truncated zip entry", ex);
        }
    }

    /// <summary>Closes the archive.</summary>
    public void Dispose()
    {
        _zip.Dispose();
        _file.Dispose();
    }
}
