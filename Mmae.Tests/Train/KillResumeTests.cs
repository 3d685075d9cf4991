using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Mmae.Train.Training;
using Xunit;
using Xunit.Abstractions;

namespace Mmae.Tests.Train;

/// <summary>A fact that needs POSIX signals; skipped on Windows.</summary>
public sealed class PosixFactAttribute : FactAttribute
{
    public PosixFactAttribute()
    {
        if (OperatingSystem.IsWindows())
        {
            Skip = "needs POSIX signals (SIGINT sent to a child process)";
        }
    }
}

/// <summary>
/// The built <c>mmae</c> as a real child process, killed with SIGKILL at random points or
/// stopped with SIGINT, then resumed: every time, the last checkpoint loads and the resumed
/// run ends with the uninterrupted run's weights, bit for bit.
/// </summary>
public sealed class KillResumeTests : TinyRunTests
{
    private const int Kills = 20;

    // Ten epochs of five steps, each step followed by a checkpoint: long enough that most
    // random points fall inside training rather than in process start-up.
    private const int Epochs = 10;
    private const int TotalSteps = Epochs * TinyRuns.StepsPerEpoch;
    private static readonly TimeSpan s_childTimeout = TimeSpan.FromSeconds(90);

    private readonly ITestOutputHelper _output;

    public KillResumeTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void Train_KilledAt20RandomPoints_ResumesToTheUninterruptedWeights()
    {
        string expected = TinyRuns.Train(Run("reference", threads: 1));
        var rng = new Random(20_261_204);
        var outcomes = new Dictionary<string, int>();
        for (int i = 0; i < Kills; i++)
        {
            // A point: after the child has printed `target` progress lines (−1: none, 0: the
            // model line before the first checkpoint, 1..50: one line per step, 51: evaluation
            // done), plus a random delay that lands inside a step, a save, or the final writes.
            int target = rng.Next(-1, TotalSteps + 2);
            int delayMs = target < 0 ? rng.Next(0, 400) : rng.Next(0, 20);
            TrainOptions o = Run($"run{i}", threads: 1 + i % 2);
            using (Process child = Start(TinyRuns.Arguments(o).Append("--checkpoint-every").Append("1")))
            {
                WaitForProgress(child, target);
                Thread.Sleep(delayMs);
                Kill(child);
            }

            string outcome = Recover(o, threads: 2 - i % 2);
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
            _output.WriteLine($"kill {i}: after {target} lines + {delayMs} ms -> {outcome}");
            TinyRuns.AssertSameRun(expected, o.Out!);
            Assert.Empty(Directory.GetFiles(o.Out!, "*.tmp"));
        }

        // Most points fall inside training, where a resume is what recovers the run.
        Assert.True(outcomes.GetValueOrDefault("resumed") >= Kills / 2,
            string.Join(", ", outcomes.Select(kv => $"{kv.Key}: {kv.Value}")));
    }

    [PosixFact]
    public void Train_Sigint_FinishesTheStepSavesAndExits130ThenResumes()
    {
        // Long enough that the child is still training when the signal arrives, however fast
        // the machine: 40 epochs of this tiny model can end before SIGINT is sent.
        TrainOptions o = Run("sigint", threads: 1) with { Epochs = 400 };
        string expected = TinyRuns.Train(o with { Out = Temp.File("sigint-reference") });
        string output;
        using (Process child = Start(TinyRuns.Arguments(o)))
        {
            string? line;
            while ((line = ReadLine(child)) is not null
                && !line.StartsWith("epoch   2/400", StringComparison.Ordinal))
            {
            }

            Assert.Equal(0, SendSignal(child.Id, SigInt));
            output = child.StandardOutput.ReadToEnd();
            Assert.True(child.WaitForExit(s_childTimeout), "the child did not exit after SIGINT");
            Assert.Equal(StopSignal.InterruptedExitCode, child.ExitCode);
        }

        Assert.Contains("interrupted at epoch", output);
        Assert.False(Directory.Exists(o.Out));
        LoadedCheckpoint c = TinyRuns.ReadPartial(o);
        Assert.InRange(c.Progress.EpochsDone, 2, 399);

        Assert.Equal("resumed", Recover(o, threads: 2));
        TinyRuns.AssertSameRun(expected, o.Out!);
    }

    private TrainOptions Run(string name, int threads) => Options(name, Epochs) with { Threads = threads };

    // Brings a killed run to its end: nothing to do if it had finished, a resume if its
    // checkpoint exists (which must load), else a fresh start.
    private string Recover(TrainOptions o, int threads)
    {
        string partial = o.Out + ".partial";
        string checkpoint = Path.Combine(partial, TrainingCheckpoint.FileName);
        string outcome;
        IEnumerable<string> args;
        if (Directory.Exists(o.Out))
        {
            return "finished before the kill";
        }
        else if (File.Exists(checkpoint))
        {
            TrainingProgress p = TrainingCheckpoint.Read(checkpoint).Progress;
            bool cut = Directory.GetFiles(partial, "*.tmp").Length > 0;
            _output.WriteLine($"  checkpoint at epoch {p.EpochsDone + 1} step {p.StepInEpoch}"
                + (cut ? "; a save was cut short by the kill" : ""));
            outcome = "resumed";
            string count = threads.ToString(CultureInfo.InvariantCulture);
            args = ["train", "--resume", partial, "--threads", count];
        }
        else
        {
            outcome = "restarted (killed before the first checkpoint)";
            args = TinyRuns.Arguments(o);
        }

        using Process child = Start(args);
        string rest = child.StandardOutput.ReadToEnd();
        Assert.True(child.WaitForExit(s_childTimeout), "the recovering run did not finish");
        Assert.True(child.ExitCode == 0,
            $"{outcome}: exit {child.ExitCode}\n{rest}\n{child.StandardError.ReadToEnd()}");
        return outcome;
    }

    private static Process Start(IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "mmae.dll"));
        foreach (string a in args)
        {
            psi.ArgumentList.Add(a);
        }

        return Process.Start(psi) ?? throw new InvalidOperationException("could not start mmae");
    }

    // Reads stdout until `target` progress lines have gone by (or the child ends).
    private static void WaitForProgress(Process child, int target)
    {
        if (target < 0)
        {
            return;
        }

        int seen = -1;
        string? line;
        while (seen < target && (line = ReadLine(child)) is not null)
        {
            if (line.StartsWith("model:", StringComparison.Ordinal))
            {
                seen = 0;
            }
            else if (line.StartsWith("checkpoint saved:", StringComparison.Ordinal)
                || line.StartsWith("epoch ", StringComparison.Ordinal)
                || line.StartsWith("reconstruction MSE", StringComparison.Ordinal))
            {
                seen++;
            }
        }
    }

    private static string? ReadLine(Process child)
    {
        Task<string?> read = child.StandardOutput.ReadLineAsync();
        if (!read.Wait(s_childTimeout))
        {
            Kill(child);
            throw new TimeoutException("the child printed nothing for 90 s");
        }

        return read.Result;
    }

    private static void Kill(Process child)
    {
        try
        {
            child.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It had already exited.
        }

        child.WaitForExit();
    }

    private static string DotnetHost()
    {
        string? host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host))
        {
            return host;
        }

        string? self = Environment.ProcessPath;
        return self is not null && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
    }

    private const int SigInt = 2;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);
}
