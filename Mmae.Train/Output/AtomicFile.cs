namespace Mmae.Train.Output;

/// <summary>Writes a file through a temporary file in the same folder and a rename, so a reader
/// never sees a half-written file and a failed write leaves any old file in place.</summary>
internal static class AtomicFile
{
    /// <summary>Calls <paramref name="write"/> on a temporary file next to
    /// <paramref name="path"/>, then renames it over <paramref name="path"/>.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string fullPath = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(fullPath) ?? ".";
        Directory.CreateDirectory(folder);
        string temp = Path.Combine(folder,
            $".{Path.GetFileName(fullPath)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write,
                FileShare.None, bufferSize: 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, fullPath, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private static void TryDelete(string temp)
    {
        try
        {
            File.Delete(temp);
        }
        catch (IOException)
        {
            // Best effort: the original error matters more than a stray temp file.
        }
        catch (UnauthorizedAccessException)
        {
            // Same as above.
        }
    }
}
