namespace Mmae.Train.Training;

/// <summary>
/// A run folder that appears only when the run has finished: files are written into
/// <c>NAME.partial</c> and the folder is renamed at the end, so an interrupted or failed run
/// never leaves something that looks like a finished one, and never replaces an old run.
/// </summary>
public sealed class RunFolder
{
    private RunFolder(string finalPath, string workPath)
    {
        FinalPath = finalPath;
        WorkPath = workPath;
    }

    /// <summary>Where the run ends up.</summary>
    public string FinalPath { get; }

    /// <summary>Where files are written while the run is in progress.</summary>
    public string WorkPath { get; }

    /// <summary>Reserves <paramref name="path"/>; refuses one that already exists.</summary>
    /// <exception cref="IOException">The folder already exists.</exception>
    public static RunFolder Create(string path)
    {
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full) || System.IO.File.Exists(full))
        {
            throw new IOException($"{path}: already exists; choose another --out so no earlier run is lost.");
        }

        string work = full + ".partial";
        if (Directory.Exists(work))
        {
            Directory.Delete(work, recursive: true);
        }

        Directory.CreateDirectory(work);
        return new RunFolder(full, work);
    }

    /// <summary>Path of a file inside the folder being written.</summary>
    public string File(string name) => Path.Combine(WorkPath, name);

    /// <summary>Publishes the finished run under its final name.</summary>
    public void Commit() => Directory.Move(WorkPath, FinalPath);

    /// <summary>Removes the unfinished folder after a failure.</summary>
    public void Abandon()
    {
        try
        {
            if (Directory.Exists(WorkPath))
            {
                Directory.Delete(WorkPath, recursive: true);
            }
        }
        catch (IOException)
        {
            // Best effort: the failure being reported matters more than this cleanup.
        }
    }
}
