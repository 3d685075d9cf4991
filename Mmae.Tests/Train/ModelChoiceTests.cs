using System.Text.Json;
using Mmae.Kernels.Cpu;
using Mmae.Train.Cli;
using Mmae.Train.Data;
using Mmae.Train.Output;
using Mmae.Train.Reports;
using Mmae.Train.Training;
using Xunit;

namespace Mmae.Tests.Train;

/// <summary>Runs of the VAE, the other regularisers and the commands that read a finished run
/// (evaluate, directions), on the tiny data of <see cref="TinyRuns"/>.</summary>
public class ModelChoiceTests
{
    private static (int Code, string Out, string Err) Mmae(params string[] args) => TrainTestSupport.RunMmae(args);

    private static string[] Tiny(TempFolder tmp, string name, params string[] extra)
    {
        (string data, string reference) = TinyRuns.WriteInputs(tmp.Path);
        TrainOptions o = TinyRuns.Options(data, reference, tmp.File(name));
        return [.. TinyRuns.Arguments(o), .. extra];
    }

    [Fact]
    public void Vae_TinyRun_LogsKl_WritesVarianceReport_CheckpointReproducesMeans()
    {
        using var tmp = new TempFolder();
        var r = Mmae(Tiny(tmp, "vae", "--model", "vae", "--beta", "0.5"));

        Assert.True(r.Code == 0, r.Err + r.Out);
        Assert.Contains("kl ", r.Out);
        Assert.Contains("latent variance: largest", r.Out);
        string run = tmp.File("vae");
        string[] csv = File.ReadAllLines(Path.Combine(run, "losses.csv"));
        Assert.EndsWith(",kl,lambda", csv[0]);
        Assert.True(double.Parse(csv[^1].Split(',')[6], System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.Equal(1 + 3, File.ReadAllLines(Path.Combine(run, "latent-variance.csv")).Length);

        var backend = new CpuBackend(1);
        var model = Checkpoint.Load(Path.Combine(run, "model.safetensors"), backend);
        Assert.True(model.IsVariational);
        var data = CommandLine.LoadData(Path.Combine(tmp.Path, "data"));
        (float[] mu, _) = Trainer.Encode(model, data, backend);
        (double[] saved, _) = Npy.Read(Path.Combine(run, "latent.npy"));
        Assert.Equal(saved, mu.Select(v => (double)v).ToArray());
    }

    [Fact]
    public void Vae_ResumedForMoreEpochs_EqualsTheLongerRun()
    {
        using var tmp = new TempFolder();
        string[] four = Tiny(tmp, "four", "--model", "vae", "--epochs", "4");
        Assert.Equal(0, Mmae(four).Code);
        string[] two = Tiny(tmp, "two", "--model", "vae", "--epochs", "2");
        Assert.Equal(0, Mmae(two).Code);

        var (code, _, err) = Mmae("train", "--resume", tmp.File("two"), "--epochs", "4");

        Assert.True(code == 0, err);
        Assert.Equal(File.ReadAllBytes(Path.Combine(tmp.File("four"), "latent.npy")),
            File.ReadAllBytes(Path.Combine(tmp.File("two") + "-e4", "latent.npy")));
    }

    [Theory]
    [InlineData("topo", "0.5")]
    [InlineData("none", "0")]
    public void Regularizers_WithoutReference_TrainAndSayNoReferenceIsUsed(string regularizer, string lambda)
    {
        using var tmp = new TempFolder();
        var r = Mmae(Tiny(tmp, "run", "--regularizer", regularizer, "--lambda", lambda));

        Assert.True(r.Code == 0, r.Err + r.Out);
        Assert.Contains($"reference: not used by --regularizer {regularizer}", r.Out);
        Assert.Equal(regularizer != "none", r.Out.Contains($"| {regularizer} ", StringComparison.Ordinal));
    }

    [Fact]
    public void LossesCsv_WritesLambdaAsGiven()
    {
        using var tmp = new TempFolder();
        var r = Mmae(Tiny(tmp, "run", "--lambda", "0.1"));

        Assert.True(r.Code == 0, r.Err + r.Out);
        string[] csv = File.ReadAllLines(Path.Combine(tmp.File("run"), "losses.csv"));
        Assert.All(csv.Skip(1), line => Assert.EndsWith(",0.1", line));
    }

    [Fact]
    public void Encode_RunFolderWithoutData_EmbedsTheRunsOwnData()
    {
        using var tmp = new TempFolder();
        Assert.Equal(0, Mmae(Tiny(tmp, "run")).Code);
        string run = tmp.File("run");

        var r = Mmae("encode", run, "--out", tmp.File("codes.npy"), "--threads", "1");

        Assert.True(r.Code == 0, r.Err);
        Assert.Equal(File.ReadAllBytes(Path.Combine(run, "latent.npy")), File.ReadAllBytes(tmp.File("codes.npy")));
    }

    [Fact]
    public void Evaluate_MissingFolder_SaysSoAndExitsOne()
    {
        using var tmp = new TempFolder();
        var r = Mmae("evaluate", tmp.File("nosuch"));

        Assert.Equal(1, r.Code);
        Assert.Contains("nosuch: no such run folder", r.Err);
    }

    [Fact]
    public void Grae_ReferenceOfAnotherWidth_IsAUsageErrorNamingBoth()
    {
        using var tmp = new TempFolder();
        var r = Mmae(Tiny(tmp, "run", "--regularizer", "grae"));

        Assert.Equal(CommandLine.UsageError, r.Code);
        Assert.Contains("--regularizer grae", r.Err);
        Assert.Contains("--latent 3", r.Err);
        Assert.Contains("got 2", r.Err);
        Assert.False(Directory.Exists(tmp.File("run")));
    }

    [Theory]
    [InlineData(new[] { "--recon", "bce" }, "--recon bce")]
    [InlineData(new[] { "--model", "vae", "--recon", "mse" }, "--recon mse")]
    [InlineData(new[] { "--arch", "dsprites" }, "--arch dsprites")]
    [InlineData(new[] { "--lambda-schedule", "step:0:3" }, "--lambda-schedule")]
    [InlineData(new[] { "--beta", "0.5" }, "--beta")]
    [InlineData(new[] { "--regularizer", "none", "--lambda", "2" }, "--lambda")]
    [InlineData(new[] { "--regularizer", "none", "--lambda-schedule", "step:0.5:1" }, "--lambda-schedule")]
    [InlineData(new[] { "--regularizer", "none", "--lambda", "0", "--lambda-schedule", "step:0.5:1" },
        "--lambda-schedule")]
    [InlineData(new[] { "--regularizer", "topo", "--distance", "euclidean" }, "--distance")]
    public void ImpossibleModelOptions_AreOneLineUsageErrors(string[] options, string named)
    {
        using var tmp = new TempFolder();
        var r = Mmae(Tiny(tmp, "run", options));

        Assert.Equal(CommandLine.UsageError, r.Code);
        Assert.Contains(named, r.Err.Split('\n')[0]);
        Assert.False(Directory.Exists(tmp.File("run")));
    }

    [Fact]
    public void LambdaSchedule_StepDecay_IsWhatTheEpochsRecord()
    {
        using var tmp = new TempFolder();
        var r = Mmae(Tiny(tmp, "run", "--lambda", "8", "--lambda-schedule", "step:0.5:1"));

        Assert.True(r.Code == 0, r.Err);
        double[] lambdas = File.ReadAllLines(Path.Combine(tmp.File("run"), "losses.csv")).Skip(1)
            .Select(l => double.Parse(l.Split(',')[7], System.Globalization.CultureInfo.InvariantCulture))
            .ToArray();
        Assert.Equal([8.0, 4.0, 2.0], lambdas);
    }

    [Fact]
    public void Evaluate_FinishedRun_WritesEveryMetric_AndCorruptedVariant()
    {
        using var tmp = new TempFolder();
        Assert.Equal(0, Mmae(Tiny(tmp, "run")).Code);
        string run = tmp.File("run");

        var clean = Mmae("evaluate", run, "--threads", "1");
        var noisy = Mmae("evaluate", run, "--threads", "1", "--corrupt", "noise:5");

        Assert.True(clean.Code == 0, clean.Err);
        Assert.True(noisy.Code == 0, noisy.Err);
        using JsonDocument a = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "evaluation.json")));
        using JsonDocument b = JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "evaluation-noise-5.json")));
        foreach (string key in new[] { "trustworthiness@3", "continuity_mean", "mrre_data_to_latent@5",
            "distance_rmse", "kl@0.1", "reconstruction_mse", "linear_probe_accuracy", "kmeans_ari", "silhouette" })
        {
            Assert.True(a.RootElement.TryGetProperty(key, out _), key);
        }

        Assert.NotEqual(a.RootElement.GetProperty("distance_rmse").GetDouble(),
            b.RootElement.GetProperty("distance_rmse").GetDouble());
    }

    [Theory]
    [InlineData("fog:1")]
    [InlineData("noise:6")]
    public void Evaluate_BadCorruption_NamesTheOption(string corruption)
    {
        using var tmp = new TempFolder();
        Assert.Equal(0, Mmae(Tiny(tmp, "run")).Code);

        var r = Mmae("evaluate", tmp.File("run"), "--corrupt", corruption);

        Assert.Equal(CommandLine.UsageError, r.Code);
        Assert.Contains($"--corrupt {corruption}", r.Err);
    }

    // A dSprites-layout folder of 12 random binary images whose shape cycles 0, 1, 2 and whose
    // scale grows, then a one-epoch conv VAE on it.
    private static string TinyDspritesRun(TempFolder tmp)
    {
        string data = tmp.File("ds");
        Directory.CreateDirectory(data);
        var rng = new Random(3);
        byte[] pixels = Enumerable.Range(0, 12 * 4096).Select(_ => (byte)(rng.Next(5) == 0 ? 1 : 0)).ToArray();
        File.WriteAllBytes(Path.Combine(data, "images-idx3-ubyte"),
            TrainTestSupport.Idx(0x803, [12, 64, 64], pixels));
        string header = "row,original_index,color,shape,scale,orientation,posX,posY,color_value,"
            + "shape_value,scale_value,orientation_value,posX_value,posY_value";
        IEnumerable<string> rows = Enumerable.Range(0, 12).Select(i =>
            FormattableString.Invariant($"{i},{i},0,{i % 3},{i / 3},0,0,0,1,{i % 3 + 1},{0.5 + 0.1 * (i / 3)},0,0,0"));
        File.WriteAllLines(Path.Combine(data, "latents.csv"), [header, .. rows]);
        string run = tmp.File("ds-run");
        var r = Mmae("train", "--arch", "dsprites", "--model", "vae", "--regularizer", "none", "--data", data,
            "--latent", "4", "--batch", "4", "--epochs", "1", "--eval-size", "12", "--threads", "1", "--out", run);
        Assert.True(r.Code == 0, r.Err + r.Out);
        return run;
    }

    [Fact]
    public void Directions_OutFolder_WritesItsFilesThere_InterpolateReadsThem()
    {
        using var tmp = new TempFolder();
        string run = TinyDspritesRun(tmp);
        string outDir = tmp.File("dirs");

        var r = Mmae("directions", run, "--out", outDir, "--threads", "1");

        Assert.True(r.Code == 0, r.Err);
        Assert.True(File.Exists(Path.Combine(outDir, DirectionsCommand.FileName)));
        Assert.True(File.Exists(Path.Combine(outDir, "directions.json")));
        var grid = Mmae("interpolate", run, "--directions", outDir,
            "--factor", "scale", "--images", "0,5", "--out", outDir, "--threads", "1");
        Assert.True(grid.Code == 0, grid.Err);
        Assert.True(File.Exists(Path.Combine(outDir, "interpolate-scale.png")));
    }

    [Theory]
    [InlineData("99999")]
    [InlineData("-1")]
    [InlineData("abc")]
    public void Interpolate_BadImageIndex_NamesTheOption(string images)
    {
        using var tmp = new TempFolder();
        Assert.Equal(0, Mmae(Tiny(tmp, "run")).Code);
        AttributeDirections.Save(Path.Combine(tmp.File("run"), DirectionsCommand.FileName),
            [new AttributeDirection("f", FactorKind.Binary, 0, 1, 1, 1,
                [1f, 0f, 0f])]);

        var r = Mmae("interpolate", tmp.File("run"), "--images", images);

        Assert.Equal(CommandLine.UsageError, r.Code);
        Assert.Contains($"option --images {images}", r.Err);
    }

    [Fact]
    public void Grae_ComputedReferenceOfAnotherWidth_RefusedBeforeAnyWork()
    {
        using var tmp = new TempFolder();
        var r = Mmae(Tiny(tmp, "run", "--regularizer", "grae", "--reference", "pca:2"));

        Assert.Equal(CommandLine.UsageError, r.Code);
        Assert.Contains("got 2 from pca:2", r.Err);
        Assert.DoesNotContain("reference:", r.Out);
    }

    [Fact]
    public void Directions_DataWithoutFactors_SaysWhich()
    {
        using var tmp = new TempFolder();
        Assert.Equal(0, Mmae(Tiny(tmp, "run")).Code);

        var r = Mmae("directions", tmp.File("run"));

        Assert.Equal(CommandLine.RunError, r.Code);
        Assert.Contains("no factor table", r.Err);
    }

    [Fact]
    public void Interpolate_BeforeDirections_SaysWhatToRunFirst()
    {
        using var tmp = new TempFolder();
        Assert.Equal(0, Mmae(Tiny(tmp, "run")).Code);

        var r = Mmae("interpolate", tmp.File("run"), "--factor", "x");

        Assert.Equal(CommandLine.RunError, r.Code);
        Assert.Contains("no directions; run `mmae directions", r.Err);
        Assert.Single(r.Err.Trim().Split('\n'));
    }
}
