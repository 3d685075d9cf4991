using System.Text.Json;
using Mmae.Engine;
using Mmae.Engine.IO;
using Mmae.Engine.Modules;
using Mmae.Kernels.Cpu;
using Mmae.Train.Data;
using Mmae.Train.Training;
using Xunit;

namespace Mmae.Tests.Train;

public sealed class NonFiniteTests : TinyRunTests
{
    // Sample whose pixel becomes NaN in the damaged data sets.
    private const int BadSample = 17;
    private const int BadPixel = 5;

    // Every length up to 70 covers the SIMD body and tail for vectors of 4, 8 and 16 floats.
    [Fact]
    public void FirstNonFinite_EveryLengthAndPosition_FindsTheFirst()
    {
        var rng = new Random(5);
        foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            for (int n = 0; n <= 70; n++)
            {
                float[] x = Enumerable.Range(0, n).Select(_ => (float)(rng.NextGaussian() * 1e30)).ToArray();
                if (n > 0)
                {
                    x[rng.Next(n)] = float.MaxValue;
                }

                Assert.Equal(-1, NonFiniteGuard.FirstNonFinite(x));
                for (int at = 0; at < n; at++)
                {
                    float[] y = (float[])x.Clone();
                    y[at] = bad;
                    y[(at + n) / 2 == at ? at : (at + n) / 2] = float.NaN;
                    Assert.Equal(at, NonFiniteGuard.FirstNonFinite(y));
                }
            }
        }
    }

    [Fact]
    public void Trainer_NaNInOneSample_StopsAtItsStepNamingTheInputAndKeepsTheLastCheckpoint()
    {
        TrainOptions o = Options("nan") with { CheckpointEvery = 1 };

        var ex = Assert.Throws<NonFiniteException>(() => TinyRuns.Train(o, out _, alter: Damage));

        Assert.StartsWith(
            $"NaN or Inf at step {ex.Step} (epoch 1, batch {ex.Step}/5), first in the input batch", ex.Message);
        Assert.Contains($"column {BadPixel} = NaN", ex.Tensor);
        Assert.Contains($"kept in {o.Out}.partial; resume it with --on-nonfinite skip", ex.Message);
        LoadedCheckpoint c = TinyRuns.ReadPartial(o);
        Assert.Equal(ex.Step - 1, c.Progress.StepInEpoch);
        AssertAllFinite(SafeTensors.Read(c.Path));
    }

    // Gradients are scanned in backward order, so the one nearest the loss is named first.
    [Fact]
    public void Check_NonFiniteGradients_NamesTheFirstInBackwardOrderWithItsLayer()
    {
        var backend = new CpuBackend(1);
        var model = new DeepAutoencoder(backend, 5, 2, new Rng(3), [3]);
        float[] rows = Enumerable.Range(0, 20).Select(i => (float)Math.Sin(i)).ToArray();
        var x = Tensor.FromArray(backend, rows, 4, 5);
        Losses.Mse(model.Forward(x), x).Backward();
        var guard = new NonFiniteGuard(model, keepBuffers: false);
        Assert.Null(guard.Check(0.5, 0.1, 0.6));

        Plant(model.Encoder.Layers[0], float.PositiveInfinity, 1);
        Plant(model.Decoder.Layers[0], float.NaN, 4);

        Assert.Equal("gradient of decoder.0.weight (layer decoder.0 (Linear)), element 4 = NaN",
            guard.Check(0.5, 0.1, 0.6));
        Assert.StartsWith("the manifold-matching loss (L_mm = NaN)", guard.Check(0.5, double.NaN, 0.6));
    }

    // A learning rate of 1e30 blows the weights up after one update; batch norm's variance then
    // overflows and the replayed forward pass names the first layer whose output is not finite.
    [Fact]
    public void Trainer_ExplodingWeights_StopsNamingTheFirstBadLayerOutput()
    {
        TrainOptions o = Options("explode") with { LearningRate = 1e30f };

        var ex = Assert.Throws<NonFiniteException>(() => TinyRuns.Train(o, out _));

        Assert.True(ex.Step >= 2, ex.Message);
        Assert.Matches(
            @"^(the output of layer (encoder|decoder)\.\d+ \(\w+\), row \d+, column \d+ = |gradient of )",
            ex.Tensor);
    }

    [Fact]
    public void Trainer_SkipMode_SkipsTheBadBatchEachEpochAndCountsIt()
    {
        TrainOptions o = Options("skip") with { OnNonFinite = "skip" };

        RunSummary summary = TinyRuns.Train(o, out string folder, alter: Outlier);

        Assert.All(summary.Epochs, e => Assert.Equal(1, e.Skipped));
        using var metrics = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "metrics.json")));
        Assert.Equal(3, metrics.RootElement.GetProperty("skipped_batches").GetInt32());
        string[] log = File.ReadAllLines(Path.Combine(folder, "log.jsonl"));
        Assert.Equal(3, log.Count(l => l.Contains("\"kind\":\"skip\"")));
        string[] losses = File.ReadAllLines(Path.Combine(folder, "losses.csv"));
        Assert.All(losses.Skip(1), l => Assert.EndsWith(",1", l));

        // Skipping restores batch norm's running statistics and leaves the weights untouched, so
        // the saved model is finite throughout.
        AssertAllFinite(SafeTensors.Read(Path.Combine(folder, "model.safetensors")));
    }

    // A NaN pixel goes through batch norm before the loss shows it, so the forward pass has
    // already written NaN into the running statistics; skipping puts the saved ones back.
    [Fact]
    public void Trainer_SkipMode_NaNInput_RestoresBatchNormStatistics()
    {
        TrainOptions o = Options("skip-input") with { OnNonFinite = "skip", EvalSize = 30 };

        // A sample past the evaluation subset, so neighbourhood metrics still run.
        RunSummary summary = TinyRuns.Train(o, out string folder,
            alter: (data, _) => data.Features[60 * data.Dim + BadPixel] = float.NaN);

        Assert.All(summary.Epochs, e => Assert.Equal(1, e.Skipped));
        AssertAllFinite(SafeTensors.Read(Path.Combine(folder, "model.safetensors")));
    }

    // Skipping is part of the run's history: stopped and resumed, a skipping run ends where an
    // uninterrupted one does.
    [Fact]
    public void Resume_SkipModeRunStoppedMidEpoch_EndsWithTheUninterruptedWeights()
    {
        TrainOptions whole = Options("skip-whole") with { OnNonFinite = "skip" };
        TinyRuns.Train(whole, out string expected, alter: Outlier);
        TrainOptions o = Options("skip-stopped") with { OnNonFinite = "skip", CheckpointEvery = 1 };
        var stop = new StopSignal();
        var fs = new Engine.FaultyFileSystem { AfterSave = n => { if (n == 8) stop.Request(); } };
        Assert.True(TinyRuns.Train(o, out _, stop, fs, Outlier).Interrupted);

        LoadedCheckpoint c = TinyRuns.ReadPartial(o);
        var backend = new CpuBackend(2);
        TinyRuns.Train(c.Options, backend, TrainingCheckpoint.Restore(c, c.Options, backend),
            RunFolder.Continue(o.Out + ".partial"), alter: Outlier);

        TinyRuns.AssertSameRun(expected, o.Out!);
    }

    private TrainOptions Options(string name) => Options(name, epochs: 3);

    private static void Plant(Module linear, float value, int at)
    {
        Tensor w = ((Linear)linear).Weight;
        float[] g = new float[w.Length];
        g[at] = value;
        w.Backend.Write(g, w.Grad!);
    }

    private static void Damage(Dataset data, float[] reference) =>
        data.Features[BadSample * data.Dim + BadPixel] = float.NaN;

    // A NaN planted in one reference row (reference files are checked on reading, so the fault
    // is injected here): L_mm is NaN for every batch holding the sample, while the data and the
    // evaluation stay finite.
    private static void Outlier(Dataset data, float[] reference) => reference[BadSample * 2] = float.NaN;

    private static void AssertAllFinite(SafeTensorsFile file)
    {
        foreach ((string name, var t) in file.Floats)
        {
            Assert.True(t.Data.All(float.IsFinite), $"{name} holds a NaN or Inf");
        }
    }
}
