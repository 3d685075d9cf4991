using Mmae.Kernels;
using Mmae.Train.Training;

namespace Mmae.Train.Cli;

/// <summary>
/// <c>mmae train --resume RUN_DIR</c>: finds the run's checkpoint and merges the options a
/// continued run may change with those the run was started with.
/// </summary>
/// <remarks>
/// An interrupted run (<c>NAME.partial</c>, named with or without the suffix) continues in
/// place and is renamed to NAME when it finishes. A finished run (NAME) continues for more
/// epochs into a new folder, <c>--out</c> or <c>NAME-eEPOCHS</c>, so the finished one stays
/// as it was. Everything that shapes the weights (data, reference, sizes, λ, batch, learning
/// rate, seed) comes from the checkpoint; giving one of those options is an error.
/// </remarks>
public sealed class ResumePlan
{
    /// <summary>Options a resumed run may change.</summary>
    public static readonly string[] Changeable =
        ["resume", "epochs", "threads", "device", "checkpoint-every", "on-nonfinite", "eval-size", "out"];

    private readonly string? _partial;

    private ResumePlan(LoadedCheckpoint checkpoint, TrainOptions options, string? partial)
    {
        Checkpoint = checkpoint;
        Options = options;
        _partial = partial;
    }

    /// <summary>The checkpoint the run continues from.</summary>
    public LoadedCheckpoint Checkpoint { get; }

    /// <summary>The run's options with the changes allowed on the command line.</summary>
    public TrainOptions Options { get; }

    /// <summary>Finds the run at <paramref name="runDir"/> and checks the options given.</summary>
    /// <param name="runDir">A run folder, its <c>.partial</c> folder, or the name of either.</param>
    /// <param name="given">The options parsed from the command line.</param>
    /// <param name="givenNames">Names of the options that were on the command line.</param>
    /// <param name="usage">Usage text for errors.</param>
    /// <exception cref="UsageException">An option that cannot change was given, or --epochs
    /// does not extend the run.</exception>
    /// <exception cref="IOException">No run or no checkpoint was found.</exception>
    /// <exception cref="Mmae.Engine.IO.CheckpointFormatException">The checkpoint is damaged.</exception>
    public static ResumePlan Resolve(
        string runDir,
        TrainOptions given,
        IReadOnlySet<string> givenNames,
        string usage)
    {
        string? fixedOption = givenNames.FirstOrDefault(n => !Changeable.Contains(n));
        if (fixedOption is not null)
        {
            throw new UsageException(
                $"option --{fixedOption}: cannot change when resuming; the run keeps the options it was "
                + $"started with (a resumed run takes only --{string.Join(", --", Changeable[1..])})", usage);
        }

        string full = Path.GetFullPath(runDir).TrimEnd(Path.DirectorySeparatorChar);
        bool namedPartial = full.EndsWith(".partial", StringComparison.Ordinal);
        string final = namedPartial ? full[..^".partial".Length] : full;
        string partial = final + ".partial";
        bool interrupted = Directory.Exists(partial);
        if (interrupted && !namedPartial && Directory.Exists(final))
        {
            throw new IOException(
                $"{runDir}: both {final} and {partial} exist; name the one to resume.");
        }

        if (!interrupted && (namedPartial || !Directory.Exists(final)))
        {
            throw new IOException($"{runDir}: no run found (looked for {final} and {partial}).");
        }

        string folder = interrupted ? partial : final;
        string path = Path.Combine(folder, TrainingCheckpoint.FileName);
        if (!File.Exists(path))
        {
            throw new IOException(interrupted
                ? $"{path}: not found; the run stopped before its first checkpoint. Start it again "
                    + "without --resume (its unfinished folder is replaced)."
                : $"{path}: not found; {final} is not a run folder, or predates checkpoints.");
        }

        LoadedCheckpoint checkpoint = TrainingCheckpoint.Read(path);
        TrainOptions o = Merge(checkpoint.Options, given, givenNames);
        int done = checkpoint.Progress.EpochsDone;
        if (interrupted)
        {
            if (givenNames.Contains("out"))
            {
                throw new UsageException(
                    $"option --out: an interrupted run continues in its own folder ({partial})", usage);
            }

            // A checkpoint inside an epoch holds updates of that epoch too: ending the run
            // before that epoch would label those weights with fewer epochs than they saw.
            bool midEpoch = checkpoint.Progress.StepInEpoch > 0;
            if (o.Epochs < done || (midEpoch && o.Epochs == done))
            {
                string progress = midEpoch
                    ? $"{done} epochs and part of epoch {done + 1}; pass --epochs {done + 1} or more"
                    : $"{done} epochs";
                throw new UsageException(
                    $"option --epochs {o.Epochs}: the run has already completed {progress}", usage);
            }

            return new ResumePlan(checkpoint, o with { Out = final }, partial);
        }

        if (!givenNames.Contains("epochs") || o.Epochs <= done)
        {
            throw new UsageException(
                $"{final} is a finished run of {done} epochs; pass --epochs N with N > {done} to continue it "
                + "in a new folder", usage);
        }

        string output = given.Out ?? $"{final}-e{o.Epochs}";
        return new ResumePlan(checkpoint, o with { Out = output }, partial: null);
    }

    /// <summary>The folder the run continues in: the interrupted run's own, or a new one.</summary>
    /// <exception cref="IOException">The folder cannot be used (see <see cref="RunFolder"/>).</exception>
    public RunFolder Folder() =>
        _partial is not null ? RunFolder.Continue(_partial) : RunFolder.Create(Options.Out!);

    /// <summary>The checkpoint's model, optimizer and progress on <paramref name="backend"/>.</summary>
    public TrainingState Restore(IBackend backend) =>
        TrainingCheckpoint.Restore(Checkpoint, Options, backend);

    private static TrainOptions Merge(TrainOptions run, TrainOptions given, IReadOnlySet<string> names) =>
        run with
    {
        Epochs = names.Contains("epochs") ? given.Epochs : run.Epochs,
        Threads = names.Contains("threads") ? given.Threads : run.Threads,
        Device = names.Contains("device") ? given.Device : run.Device,
        CheckpointEvery = names.Contains("checkpoint-every") ? given.CheckpointEvery : run.CheckpointEvery,
        OnNonFinite = names.Contains("on-nonfinite") ? given.OnNonFinite : run.OnNonFinite,
        EvalSize = names.Contains("eval-size") ? given.EvalSize : run.EvalSize,
    };
}
