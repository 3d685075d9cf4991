using Mmae.Engine.IO;
using Mmae.Kernels.Cpu;
using Mmae.Tests.Engine;
using Mmae.Train.Cli;
using Mmae.Train.Data;
using Mmae.Train.Training;
using Xunit;

namespace Mmae.Tests.Train;

/// <summary>Stopping and resuming runs in this process (the child-process kills are in
/// KillResumeTests).</summary>
public sealed class ResumeTests : TinyRunTests
{
    private const int Epochs = 3;

    // Stop after every step in turn (checkpoints every step), resume in a fresh trainer on a
    // backend with another thread count, and end on the uninterrupted run's bits.
    [Fact]
    public void Resume_StoppedAfterEveryStep_EndsWithTheUninterruptedWeights()
    {
        string expected = TinyRuns.Train(Options("reference"));
        for (int k = 0; k <= Epochs * TinyRuns.StepsPerEpoch; k++)
        {
            TrainOptions o = Options($"stop{k}") with { CheckpointEvery = 1 };
            var stop = new StopSignal();

            // Save 1 precedes the first step; save k + 1 follows step k.
            var fs = new FaultyFileSystem { AfterSave = n => { if (n == k + 1) stop.Request(); } };

            // After the last step the stop comes before the evaluation, which the resumed run does.
            Assert.True(TinyRuns.Train(o, stop: stop, fs: fs, output: out _).Interrupted);

            LoadedCheckpoint c = TinyRuns.ReadPartial(o);
            Assert.Equal(k, c.Progress.EpochsDone * TinyRuns.StepsPerEpoch + c.Progress.StepInEpoch);
            var backend = new CpuBackend(2);
            TrainingState state = TrainingCheckpoint.Restore(c, c.Options, backend);
            RunSummary second = TinyRuns.Train(c.Options, backend, state, RunFolder.Continue(o.Out + ".partial"));
            Assert.False(second.Interrupted);
            TinyRuns.AssertSameRun(expected, o.Out!);
        }
    }

    // Sizes at which GEMM, batch norm and the loss kernels split their work into chunks: the
    // chunks depend on the sizes only, so one thread and three give the same bits.
    [Fact]
    public void Trainer_OneAndThreeThreads_BitIdenticalRuns()
    {
        var rng = new Random(8);
        float[] features = Enumerable.Range(0, 260 * 300).Select(_ => (float)rng.NextDouble() * 2 - 1).ToArray();
        int[] labels = Enumerable.Range(0, 260).Select(i => i % 4).ToArray();
        var data = new Dataset("wide", 260, 300, features, labels);
        float[] reference = Enumerable.Range(0, 260 * 5).Select(_ => (float)rng.NextGaussian()).ToArray();
        var runs = new List<string>();
        foreach (int threads in new[] { 1, 3 })
        {
            var o = new TrainOptions
            {
                Latent = 4,
                Hidden = [300, 50],
                Batch = 130,
                Epochs = 2,
                EvalSize = 40,
            };
            var folder = RunFolder.Create(Temp.File($"threads{threads}"));
            new Trainer(o, new CpuBackend(threads), TextWriter.Null, new ProgressBar(TextWriter.Null, false))
                .Run(data, reference, 5, folder);
            folder.Commit();
            runs.Add(folder.FinalPath);
        }

        TinyRuns.AssertSameRun(runs[0], runs[1]);
    }

    // A checkpoint save that fails part-way ends the run with a clear error and leaves the
    // previous checkpoint, from which the run resumes to the same final weights.
    [Theory]
    [InlineData(FaultPoint.Create, 0)]
    [InlineData(FaultPoint.Write, 0)]
    [InlineData(FaultPoint.Write, 300)]
    [InlineData(FaultPoint.Write, 5000)]
    [InlineData(FaultPoint.Flush, 0)]
    [InlineData(FaultPoint.Replace, 0)]
    public void Trainer_CheckpointSaveFails_PreviousCheckpointIntactAndResumable(FaultPoint point, long bytes)
    {
        string expected = TinyRuns.Train(Options("reference"));
        TrainOptions o = Options("faulty") with { CheckpointEvery = 1 };
        string partial = o.Out + ".partial";
        string ckpt = Path.Combine(partial, TrainingCheckpoint.FileName);
        byte[]? lastGood = null;
        var fs = new FaultyFileSystem
        {
            FailOnSave = 7,
            Point = point,
            FailAfterBytes = bytes,
            AfterSave = _ => lastGood = File.ReadAllBytes(ckpt),
        };

        var ex = Assert.Throws<IOException>(() => TinyRuns.Train(o, fs: fs, output: out _));

        Assert.Contains(TrainingCheckpoint.FileName, ex.Message);
        Assert.Contains("the previous file is unchanged", ex.Message);
        Assert.Equal(lastGood, File.ReadAllBytes(ckpt));
        Assert.Empty(Directory.GetFiles(partial, "*.tmp"));
        LoadedCheckpoint c = TrainingCheckpoint.Read(ckpt);
        Assert.Equal(5, c.Progress.EpochsDone * TinyRuns.StepsPerEpoch + c.Progress.StepInEpoch);
        var backend = new CpuBackend(1);
        TrainingState state = TrainingCheckpoint.Restore(c, c.Options, backend);
        TinyRuns.Train(c.Options, backend, state, RunFolder.Continue(partial));
        TinyRuns.AssertSameRun(expected, o.Out!);
    }

    // A run stopped inside epoch 2 cannot be resumed as a run of 1 epoch: its weights have seen
    // part of epoch 2 (asking for 2 epochs continues it).
    [Fact]
    public void Resume_InterruptedMidEpoch_RefusesFewerEpochsThanItHasStarted()
    {
        TrainOptions o = Options("mid") with { CheckpointEvery = 1 };
        var stop = new StopSignal();
        var fs = new FaultyFileSystem { AfterSave = n => { if (n == TinyRuns.StepsPerEpoch + 3) stop.Request(); } };
        Assert.True(TinyRuns.Train(o, stop: stop, fs: fs, output: out _).Interrupted);
        Assert.Equal(1, TinyRuns.ReadPartial(o).Progress.EpochsDone);

        var (code, _, err) = Mmae("train", "--resume", o.Out + ".partial", "--epochs", "1");

        Assert.Equal(CommandLine.UsageError, code);
        Assert.Contains("part of epoch 2; pass --epochs 2 or more", err);
        var encode = Mmae("encode", o.Out + ".partial");
        Assert.Equal(CommandLine.RunError, encode.Code);
        Assert.Contains("an unfinished run; finish it first with `mmae train --resume", encode.Err);
        Assert.Equal(0, Mmae("train", "--resume", o.Out + ".partial", "--epochs", "2").Code);
    }

    // Through the command line: a finished run of 2 epochs continued to 4 into a new folder
    // equals a 4-epoch run, and the finished run is left as it was.
    [Fact]
    public void Resume_FinishedRunForMoreEpochs_EqualsTheLongerRun()
    {
        TrainOptions four = Options("four") with { Epochs = 4 };
        Assert.Equal(0, Mmae([.. TinyRuns.Arguments(four)]).Code);
        TrainOptions two = Options("two") with { Epochs = 2 };
        Assert.Equal(0, Mmae([.. TinyRuns.Arguments(two)]).Code);
        byte[] finished = File.ReadAllBytes(Path.Combine(two.Out!, "model.safetensors"));

        var (code, output, err) = Mmae("train", "--resume", two.Out!, "--epochs", "4", "--threads", "2");

        Assert.True(code == 0, err);
        Assert.Contains("resuming: epoch 3, step 0/5", output);
        TinyRuns.AssertSameRun(four.Out!, two.Out + "-e4");
        Assert.Equal(finished, File.ReadAllBytes(Path.Combine(two.Out!, "model.safetensors")));
    }

    [Theory]
    [InlineData("--lr", "0.01")]
    [InlineData("--seed", "3")]
    [InlineData("--hidden", "4")]
    [InlineData("--data", "elsewhere")]
    public void Resume_OptionThatShapesTheWeights_UsageErrorNamingIt(string option, string value)
    {
        string run = FinishedRun();

        var (code, _, err) = Mmae("train", "--resume", run, "--epochs", "5", option, value);

        Assert.Equal(CommandLine.UsageError, code);
        Assert.StartsWith($"mmae: error: option {option}: cannot change when resuming", err);
    }

    [Fact]
    public void Resume_FinishedRunWithoutMoreEpochs_UsageErrorSaysHow()
    {
        string run = FinishedRun();

        var (code, _, err) = Mmae("train", "--resume", run);

        Assert.Equal(CommandLine.UsageError, code);
        Assert.Contains("is a finished run of 3 epochs; pass --epochs N with N > 3", err);
    }

    [Fact]
    public void Resume_NoSuchRun_FailsNamingBothPaths()
    {
        string run = Temp.File("nothing");

        var (code, _, err) = Mmae("train", "--resume", run);

        Assert.Equal(CommandLine.RunError, code);
        Assert.Contains($"looked for {run} and {run}.partial", err);
    }

    [Fact]
    public void Resume_PartialFolderWithoutCheckpoint_SaysToStartAgain()
    {
        string run = Temp.File("early");
        Directory.CreateDirectory(run + ".partial");

        var (code, _, err) = Mmae("train", "--resume", run);

        Assert.Equal(CommandLine.RunError, code);
        Assert.Contains("stopped before its first checkpoint", err);
    }

    [Fact]
    public void Resume_BothTheRunAndItsPartialFolderExist_RefusesToGuess()
    {
        string run = Interrupted("both");
        Directory.CreateDirectory(run);

        var (code, _, err) = Mmae("train", "--resume", run);
        var (code2, _, err2) = Mmae("train", "--resume", run + ".partial");

        Assert.Equal(CommandLine.RunError, code);
        Assert.Contains("name the one to resume", err);
        Assert.Equal(CommandLine.RunError, code2);
        Assert.Contains($"{run}: exists beside {run}.partial", err2);
    }

    [Theory]
    [InlineData("--on-nonfinite", "ignore", "expected stop or skip")]
    [InlineData("--checkpoint-every", "-1", "must be at least 0")]
    public void Train_BadReliabilityOption_UsageErrorNamingIt(string option, string value, string why)
    {
        var (code, _, err) = Mmae("train", option, value);

        Assert.Equal(CommandLine.UsageError, code);
        Assert.StartsWith($"mmae: error: option {option} {value}: {why}", err);
    }

    [Fact]
    public void Resume_DamagedCheckpoint_OneLineError()
    {
        string run = Interrupted("damaged");
        string ckpt = Path.Combine(run + ".partial", TrainingCheckpoint.FileName);
        byte[] bytes = File.ReadAllBytes(ckpt);
        File.WriteAllBytes(ckpt, bytes[..(bytes.Length / 2)]);

        var (code, _, err) = Mmae("train", "--resume", run);

        Assert.Equal(CommandLine.RunError, code);
        Assert.Single(err.TrimEnd().Split('\n'));
        Assert.StartsWith($"mmae: error: {ckpt}:", err);
    }

    [Fact]
    public void Resume_DataChangedSinceTheRun_RefusedByFingerprint()
    {
        string run = Interrupted("moved");
        TinyRuns.WriteInputs(Temp.Path, seed: 2);

        var (code, _, err) = Mmae("train", "--resume", run + ".partial");

        Assert.Equal(CommandLine.RunError, code);
        Assert.Contains("trained on other data or another reference", err);
    }

    [Fact]
    public void Train_InterruptedRunWithCheckpoint_IsNotWipedByANewRun()
    {
        string run = Interrupted("keep");
        byte[] before = File.ReadAllBytes(Path.Combine(run + ".partial", TrainingCheckpoint.FileName));

        var (code, _, err) = Mmae([.. TinyRuns.Arguments(Options("keep"))]);

        Assert.Equal(CommandLine.RunError, code);
        Assert.Contains("holds an interrupted run with a checkpoint", err);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(run + ".partial", TrainingCheckpoint.FileName)));
    }

    private TrainOptions Options(string name) => Options(name, Epochs);

    private string FinishedRun()
    {
        TrainOptions o = Options("finished" + Guid.NewGuid().ToString("N"));
        Assert.Equal(0, Mmae([.. TinyRuns.Arguments(o)]).Code);
        return o.Out!;
    }

    // A run stopped after its 7th step; returns its final name (the checkpoint is in NAME.partial).
    private string Interrupted(string name)
    {
        TrainOptions o = Options(name) with { CheckpointEvery = 1 };
        var stop = new StopSignal();
        var fs = new FaultyFileSystem { AfterSave = n => { if (n == 8) stop.Request(); } };
        Assert.True(TinyRuns.Train(o, stop: stop, fs: fs, output: out _).Interrupted);
        return o.Out!;
    }

    private static (int Code, string Out, string Err) Mmae(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CommandLine.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
