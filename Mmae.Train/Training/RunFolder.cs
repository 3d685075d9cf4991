namespace Mmae.Train.Training;

/// <summary>
/// A run folder that appears only when the run has finished: files are written into
/// <c>NAME.partial</c> and the folder is renamed at the end, so an interrupted or failed run
/// never leaves something that looks like a finished one, and never replaces an old run.
/// A run that stops after writing its first checkpoint keeps <c>NAME.partial</c>, which
/// <c>mmae train --resume</c> continues in place.
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
    /// <exception cref="IOException">The folder already exists, or its <c>.partial</c> folder
    /// holds a checkpoint (an interrupted run to resume rather than wipe).</exception>
    public static RunFolder Create(string path)
    {
        string full = Path.GetFullPath(path);
        if (Directory.Exists(full) || System.IO.File.Exists(full))
        {
            throw new IOException($"{path}: already exists; choose another --out so no earlier run is lost.");
        }

        string work = full + ".partial";
        if (System.IO.File.Exists(Path.Combine(work, TrainingCheckpoint.FileName)))
        {
            throw new IOException(
                $"{work}: holds an interrupted run with a checkpoint; continue it with "
                + $"'mmae train --resume {work}', or delete the folder to start over.");
        }

        if (Directory.Exists(work))
        {
            Directory.Delete(work, recursive: true);
        }

        Directory.CreateDirectory(work);
        return new RunFolder(full, work);
    }

    /// <summary>Continues in an interrupted run's <c>NAME.partial</c> folder.</summary>
    /// <exception cref="IOException">NAME exists too, so the rename at the end would fail.</exception>
    public static RunFolder Continue(string partialPath)
    {
        string work = Path.GetFullPath(partialPath).TrimEnd(Path.DirectorySeparatorChar);
        string full = work.EndsWith(".partial", StringComparison.Ordinal) ? work[..^".partial".Length] : work;
        if (Directory.Exists(full) || System.IO.File.Exists(full))
        {
            throw new IOException(
                $"{full}: exists beside {work}; move one of them away so the resumed run can be published.");
        }

        // A save killed part-way leaves its temporary file (see AtomicWriter); the checkpoint
        // beside it is whole, and the leftover is not part of the run.
        foreach (string stale in Directory.EnumerateFiles(work, ".*.tmp"))
        {
            System.IO.File.Delete(stale);
        }

        return new RunFolder(full, work);
    }

    /// <summary>The training checkpoint inside the folder being written.</summary>
    public string CheckpointPath => File(TrainingCheckpoint.FileName);

    /// <summary>Path of a file inside the folder being written.</summary>
    public string File(string name) => Path.Combine(WorkPath, name);

    /// <summary>Publishes the finished run under its final name.</summary>
    public void Commit() => Directory.Move(WorkPath, FinalPath);

    /// <summary>
    /// After a failure, removes the unfinished folder unless it holds a checkpoint worth
    /// resuming; returns whether it was kept.
    /// </summary>
    public bool Abandon()
    {
        if (System.IO.File.Exists(CheckpointPath))
        {
            return true;
        }

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

        return false;
    }
}
