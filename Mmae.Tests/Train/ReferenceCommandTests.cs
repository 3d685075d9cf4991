using Mmae.Train.Cli;
using Mmae.Train.Output;
using Xunit;

namespace Mmae.Tests.Train;

public sealed class ReferenceCommandTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("tsne:2")]
    [InlineData("umap:2")]
    public void Reference_SmallData_WritesNpyAndPngAndReportsTrustworthiness(string spec)
    {
        string data = TrainCommandTests.MakeSmallMnist(_temp, 300);
        string output = _temp.File("emb.npy");
        string cache = _temp.File("cache");

        var (code, stdout, err) = Mmae("reference", spec, "--data", data, "--out", output, "--cache", cache,
            "--tsne-iterations", "300", "--umap-epochs", "100");

        Assert.True(code == 0, err);
        Assert.Equal(new[] { 300, 2 }, Npy.Read(output).Shape);
        Assert.True(File.Exists(_temp.File("emb.png")));
        Assert.Matches(@"trustworthiness@10 0\.\d{4}", stdout);
        Assert.Matches(@"seconds \d+\.\d", stdout);
        Assert.Single(Directory.GetFiles(cache));

        var (again, secondOut, _) = Mmae("reference", spec, "--data", data, "--out", _temp.File("emb2.npy"),
            "--cache", cache, "--tsne-iterations", "300", "--umap-epochs", "100");
        Assert.Equal(0, again);
        Assert.Contains("loaded from the cache", secondOut);
        Assert.Equal(Npy.Read(output).Data, Npy.Read(_temp.File("emb2.npy")).Data);
    }

    [Fact]
    public void Reference_CacheThatIsAFile_WarnsAndStillWritesTheEmbedding()
    {
        string data = TrainCommandTests.MakeSmallMnist(_temp, 60);
        string notAFolder = _temp.File("cache-file");
        File.WriteAllText(notAFolder, "x");

        var (code, stdout, err) = Mmae("reference", "pca:2", "--data", data, "--out", _temp.File("p.npy"),
            "--cache", notAFolder);

        Assert.True(code == 0, err);
        Assert.Contains("reference cache: not written: " + notAFolder + " is a file, not a folder", stdout);
        Assert.Equal(new[] { 60, 2 }, Npy.Read(_temp.File("p.npy")).Shape);
    }

    [Fact]
    public void Train_LambdaSweep_ComputesTheReferenceOnceAndReusesIt()
    {
        string data = TrainCommandTests.MakeSmallMnist(_temp, 200);
        string[] common = ["train", "--data", data, "--latent", "2", "--reference", "umap:2", "--umap-epochs", "50",
            "--epochs", "1", "--batch", "50", "--eval-size", "100"];

        var (first, out1, err1) = Mmae([.. common, "--lambda", "0.5", "--out", _temp.File("runs/a")]);
        var (second, out2, err2) = Mmae([.. common, "--lambda", "2", "--out", _temp.File("runs/b")]);

        Assert.True(first == 0, err1);
        Assert.True(second == 0, err2);
        Assert.Contains("computed, cached as " + _temp.File("runs/cache"), out1);
        Assert.Contains("from the cache " + _temp.File("runs/cache"), out2);
        Assert.Single(Directory.GetFiles(_temp.File("runs/cache")));
    }

    [Theory]
    [InlineData("tsne:5", "--reference tsne:5")]
    [InlineData("umap:0", "--reference umap:0")]
    public void Reference_BadSpec_ExitsWithUsageError(string spec, string named)
    {
        var (code, _, err) = Mmae("reference", spec);

        Assert.Equal(CommandLine.UsageError, code);
        Assert.Contains(named, err.Split('\n')[0]);
    }

    [Fact]
    public void Reference_PerplexityTooLargeForData_FailsWithOneLine()
    {
        string data = TrainCommandTests.MakeSmallMnist(_temp, 30);

        var (code, _, err) = Mmae("reference", "tsne:2", "--data", data, "--cache", "off",
            "--out", _temp.File("e.npy"));

        Assert.Equal(CommandLine.UsageError, code);
        Assert.Contains("perplexity", err.Split('\n')[0]);
        Assert.DoesNotContain("(Parameter", err.Split('\n')[0]);
        Assert.False(File.Exists(_temp.File("e.npy")));
    }

    [Fact]
    public void Train_CsvReferenceWithNaN_FailsNamingFileAndRow()
    {
        string data = TrainCommandTests.MakeSmallMnist(_temp, 20);
        string csv = _temp.File("ref.csv");
        File.WriteAllLines(csv, Enumerable.Range(0, 20).Select(i => i == 7 ? "1,nan" : $"{i},{-i}"));

        var (code, _, err) = Mmae("train", "--data", data, "--reference", "file:" + csv, "--batch", "10",
            "--out", _temp.File("run"));

        Assert.Equal(CommandLine.RunError, code);
        Assert.Equal($"mmae: error: {csv}: line 8 (row 7), column 1 is NaN; reference values must be finite",
            err.Trim());
    }

    [Fact]
    public void Help_ListsTheReferenceParameters()
    {
        var (code, output, _) = Mmae("reference", "--help");

        Assert.Equal(0, code);
        foreach (string o in new[] { "--perplexity", "--exaggeration", "--tsne-lr", "--tsne-iterations",
            "--neighbours", "--min-dist", "--umap-epochs", "--seed", "--cache" })
        {
            Assert.Contains(o, output);
        }

        Assert.Contains("--reference-seed", Mmae("train", "--help").Out);
    }

    private static (int Code, string Out, string Err) Mmae(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CommandLine.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
