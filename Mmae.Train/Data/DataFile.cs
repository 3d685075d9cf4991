namespace Mmae.Train.Data;

/// <summary>Opens data files so that a missing or unreadable file gives one clear line.</summary>
internal static class DataFile
{
    /// <summary>Opens <paramref name="path"/> for reading.</summary>
    /// <exception cref="FileNotFoundException">The file (or its folder) does not exist.</exception>
    /// <exception cref="IOException">The file exists but cannot be opened.</exception>
    public static FileStream OpenRead(string path)
    {
        string fullPath = Path.GetFullPath(path);
        if (Directory.Exists(path))
        {
            throw new IOException($"{path}: is a folder, expected a file ({fullPath})");
        }

        try
        {
            return new FileStream(
                path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException(
                $"{path}: file not found (searched {fullPath})", fullPath, ex);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            throw new IOException($"{path}: cannot open file ({OneLine(ex.Message)})", ex);
        }
    }

    /// <summary>Collapses a lower-level message to one line.</summary>
    public static string OneLine(string message) => message.ReplaceLineEndings(" ").Trim();
}
