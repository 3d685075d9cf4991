namespace Mmae.Engine.IO;

/// <summary>
/// The file operations an atomic write needs. Production code uses
/// <see cref="LocalFileSystem"/>; tests substitute one that fails at a chosen point.
/// </summary>
public interface IFileSystem
{
    /// <summary>Creates a new file for writing; fails if it exists.</summary>
    Stream CreateNew(string path);

    /// <summary>Renames <paramref name="source"/> to <paramref name="destination"/>, replacing
    /// an existing file in one step.</summary>
    void Replace(string source, string destination);

    /// <summary>Deletes a file; a missing file is not an error.</summary>
    void Delete(string path);
}

/// <summary>The real file system.</summary>
public sealed class LocalFileSystem : IFileSystem
{
    /// <summary>The one instance.</summary>
    public static readonly LocalFileSystem Instance = new();

    private LocalFileSystem()
    {
    }

    /// <inheritdoc/>
    public Stream CreateNew(string path) =>
        new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16);

    /// <inheritdoc/>
    public void Replace(string source, string destination) => File.Move(source, destination, overwrite: true);

    /// <inheritdoc/>
    public void Delete(string path) => File.Delete(path);
}

/// <summary>
/// Writes a file through a temporary file in the same folder that is flushed to disk and then
/// renamed over the destination, so a reader sees the old file or the new one, never half of
/// one, and a failed or killed write leaves the old file as it was.
/// </summary>
/// <remarks>
/// Limitation: the folder itself is not flushed after the rename, so after a power cut (not a
/// killed process) some file systems may come back with the old file; .NET has no portable way
/// to flush a folder.
/// </remarks>
public static class AtomicWriter
{
    /// <summary>Calls <paramref name="write"/> on a temporary file next to
    /// <paramref name="path"/>, then renames it over <paramref name="path"/>.</summary>
    /// <param name="path">Destination; its folder is created when missing.</param>
    /// <param name="write">Writes the whole content.</param>
    /// <param name="fileSystem">File operations; null for the real file system.</param>
    /// <exception cref="IOException">The write failed; the message names the file and says the
    /// old file is unchanged. The temporary file is removed.</exception>
    public static void Write(string path, Action<Stream> write, IFileSystem? fileSystem = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        IFileSystem fs = fileSystem ?? LocalFileSystem.Instance;
        string fullPath = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(fullPath) ?? ".";
        string temp = Path.Combine(folder,
            $".{Path.GetFileName(fullPath)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            Directory.CreateDirectory(folder);
            using (Stream stream = fs.CreateNew(temp))
            {
                write(stream);
                if (stream is FileStream file)
                {
                    file.Flush(flushToDisk: true);
                }
                else
                {
                    stream.Flush();
                }
            }

            fs.Replace(temp, fullPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(fs, temp);
            string kept = File.Exists(fullPath) ? "the previous file is unchanged" : "nothing was written";
            throw new IOException($"{path}: write failed ({OneLine(ex.Message)}); {kept}.", ex);
        }
        catch
        {
            TryDelete(fs, temp);
            throw;
        }
    }

    private static void TryDelete(IFileSystem fs, string temp)
    {
        try
        {
            fs.Delete(temp);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: the original error matters more than a stray temporary file.
        }
    }

    private static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}
