using Mmae.Train.Cli;
using SixLabors.ImageSharp;
using Xunit;

namespace Mmae.Tests.Train;

public class SweepTests
{
    private static (int Code, string Out, string Err) Mmae(params string[] args) => TrainTestSupport.RunMmae(args);

    [Fact]
    public void Plan_PlainAutoencoderHasOneLambda_OthersEveryLambdaAndSeed()
    {
        var plan = SweepCommand.Plan(["ae", "mmae", "topo"], SweepCommand.ParseLambdas("0.5,2"), [0, 3]);

        Assert.Equal(2 + 2 * 2 + 2 * 2, plan.Count);
        Assert.Equal(["ae-s0", "ae-s3"], plan.Where(r => r.Model == "ae").Select(r => r.Name));
        Assert.Contains(plan, r => r.Name == "mmae-lam0.5-s3");
        Assert.Equal(plan.Count, plan.Select(r => r.Name).Distinct().Count());
    }

    [Fact]
    public void ParseLambdas_PerModelLists_OthersKeepDefaults()
    {
        var l = SweepCommand.ParseLambdas("mmae=5,50; topo=0.2");

        Assert.Equal([5f, 50f], l["mmae"]);
        Assert.Equal([0.2f], l["topo"]);
        Assert.Equal(SweepCommand.ParseLambdas(SweepCommand.DefaultLambdas)["grae"], l["grae"]);
        Assert.Throws<ArgumentException>(() => SweepCommand.ParseLambdas("vq=1"));
        Assert.Throws<ArgumentException>(() => SweepCommand.ParseLambdas("mmae=-1"));
    }

    [Theory]
    [InlineData("ae", "ae", "ae")]
    [InlineData("mmae", "ae", "mmae")]
    [InlineData("ae", "vae", "vae")]
    [InlineData("mmae", "vae", "mmvae")]
    [InlineData("grae", "vae", "grae-vae")]
    [InlineData("topo", "vae", "topo-vae")]
    public void Label_NamesVaeRunsAsVaes(string model, string baseModel, string label)
    {
        Assert.Equal(label, new SweepCommand.SweepRun(model, 1f, 0).Label(baseModel));
    }

    [Fact]
    public void Sweep_TinyRuns_WritesCsvAndChart_SecondStartSkipsFinishedRuns()
    {
        using var tmp = new TempFolder();
        (string data, string reference) = TinyRuns.WriteInputs(tmp.Path);
        string outDir = tmp.File("sweep");
        string[] args =
        [
            "sweep", "--models", "ae,mmae", "--lambdas", "1", "--seeds", "0,1", "--out", outDir, "--",
            "--data", data, "--reference", "file:" + reference, "--latent", "3", "--hidden", "10,6",
            "--batch", "20", "--epochs", "2", "--eval-size", "30", "--threads", "1",
        ];

        var first = Mmae(args);

        Assert.True(first.Code == 0, first.Err + first.Out);
        string[] lines = File.ReadAllLines(Path.Combine(outDir, "sweep.csv"));
        Assert.Equal(1 + 4, lines.Length);
        Assert.StartsWith("model,lambda,seed,run,", lines[0]);
        Assert.Contains("reconstruction_mse", lines[0]);
        Assert.Contains(lines, l => l.StartsWith("mmae,1,1,mmae-lam1-s1,", StringComparison.Ordinal));
        using (var png = Image.Load(Path.Combine(outDir, "sweep.png")))
        {
            Assert.True(png.Width > 100 && png.Height > 100);
        }

        DateTime written = File.GetLastWriteTimeUtc(Path.Combine(outDir, "ae-s0", "metrics.json"));
        var second = Mmae(args);

        Assert.True(second.Code == 0, second.Err);
        Assert.Equal(4, second.Out.Split('\n').Count(l => l.Contains("finished earlier, skipped")));
        Assert.Equal(written, File.GetLastWriteTimeUtc(Path.Combine(outDir, "ae-s0", "metrics.json")));

        // Other train options would mix runs that do not compare: refused, nothing retrained.
        var third = Mmae([.. args[..^2], "--threads", "2"]);
        Assert.Equal(CommandLine.UsageError, third.Code);
        Assert.Contains("this sweep was started with train options", third.Err);
    }

    [Theory]
    [InlineData("--seed", "3", "--seed")]
    [InlineData("--out", "x", "--out")]
    [InlineData("--lambda", "2", "--lambda")]
    public void Sweep_TrainOptionItSetsItself_IsAUsageError(string option, string value, string named)
    {
        using var tmp = new TempFolder();
        var r = Mmae("sweep", "--out", tmp.File("s"), "--", option, value);

        Assert.Equal(CommandLine.UsageError, r.Code);
        Assert.Contains($"option {named} after --", r.Err);
        Assert.False(Directory.Exists(tmp.File("s")));
    }

    [Theory]
    [InlineData("--seeds", "0,0", "'0' appears twice")]
    [InlineData("--models", "ae,mmae,ae", "'ae' appears twice")]
    public void Sweep_ListNamingAnItemTwice_IsAUsageError(string option, string value, string why)
    {
        var r = Mmae("sweep", option, value, "--out", Path.Combine(Path.GetTempPath(), "never-made"));

        Assert.Equal(CommandLine.UsageError, r.Code);
        Assert.Contains($"{option} {value}: {why}", r.Err);
    }

    [Fact]
    public void Sweep_OptionEveryRunWouldIgnore_IsRefusedBeforeAnyRun()
    {
        using var tmp = new TempFolder();
        string outDir = tmp.File("sweep");

        var r = Mmae("sweep", "--models", "ae,mmae", "--seeds", "0", "--out", outDir, "--", "--beta", "2");

        Assert.Equal(CommandLine.UsageError, r.Code);
        Assert.Contains("option --beta", r.Err);
        Assert.Empty(Directory.Exists(outDir) ? Directory.GetDirectories(outDir) : []);
    }

    [Fact]
    public void Sweep_LambdaSchedule_ReachesTheRegularisedRunsNotThePlainAutoencoder()
    {
        using var tmp = new TempFolder();
        (string data, string reference) = TinyRuns.WriteInputs(tmp.Path);
        string outDir = tmp.File("sweep");

        var r = Mmae("sweep", "--models", "ae,mmae", "--lambdas", "1", "--seeds", "0", "--out", outDir, "--",
            "--data", data, "--reference", "file:" + reference, "--latent", "3", "--hidden", "10,6",
            "--batch", "20", "--epochs", "2", "--eval-size", "30", "--threads", "1", "--lambda-schedule", "step:0.5:1");

        Assert.True(r.Code == 0, r.Err + r.Out);
        string[] mmae = File.ReadAllLines(Path.Combine(outDir, "mmae-lam1-s0", "losses.csv"));
        Assert.EndsWith(",0.5", mmae[^1]);
    }

    [Fact]
    public void Sweep_UnknownModel_NamesIt()
    {
        var r = Mmae("sweep", "--models", "ae,vqvae");

        Assert.Equal(CommandLine.UsageError, r.Code);
        Assert.Contains("vqvae", r.Err);
    }
}
