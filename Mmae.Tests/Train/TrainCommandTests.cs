using Mmae.Kernels.Cpu;
using Mmae.Train.Cli;
using Mmae.Train.Data;
using Mmae.Train.Output;
using Mmae.Train.Training;
using Xunit;

namespace Mmae.Tests.Train;

public class TrainCommandTests
{
    private static (int Code, string Out, string Err) Mmae(params string[] args) => TrainTestSupport.RunMmae(args);

    private static string MnistFolder => Path.Combine(TrainTestSupport.RepoRoot(), "data", "mnist-10k");

    [Theory]
    [InlineData(0.5, "0.50000")]
    [InlineData(123456.789, "123456.78900")]
    [InlineData(2.6418303961071062e32, "2.64183e+32")]
    public void EpochLine_LossFormat_SwitchesToAnExponentForHugeValues(double loss, string text)
    {
        Assert.Equal(text, Trainer.Loss(loss));
    }

    [Fact]
    public void Help_WithACommand_ShowsThatCommandsOptions_UnknownOneIsAnError()
    {
        var train = Mmae("help", "train");
        var bogus = Mmae("help", "bogus");

        Assert.Equal(0, train.Code);
        Assert.Contains("--lambda-schedule", train.Out);
        Assert.Equal(CommandLine.UsageError, bogus.Code);
        Assert.Contains("unknown command 'bogus'", bogus.Err);
    }

    [Fact]
    public void Version_PrintsOneLineAndExitsZero()
    {
        var (code, output, _) = Mmae("--version");

        Assert.Equal(0, code);
        Assert.Matches(@"^mmae \d+\.\d+\.\d+\S*\s*$", output);
    }

    [Fact]
    public void Trainer_ShortRunOn1000Samples_LowersLossAndWritesRun()
    {
        using var tmp = new TempFolder();
        Dataset data = Dataset.LoadMnistFolder(MnistFolder, "mnist").Subset(Enumerable.Range(0, 1000).ToArray());
        var options = new TrainOptions { Latent = 8, Reference = "pca:5", Epochs = 3, Batch = 100, EvalSize = 200 };
        var (reference, dim) = ReferenceSpec.Resolve(options.Reference, data);
        var folder = RunFolder.Create(tmp.File("run"));
        var backend = new CpuBackend(2);
        RunSummary summary = new Trainer(options, backend, TextWriter.Null, new ProgressBar(TextWriter.Null, false))
            .Run(data, reference, dim, folder);
        folder.Commit();

        Assert.True(summary.Epochs[^1].Total < summary.Epochs[0].Total,
            $"loss went from {summary.Epochs[0].Total} to {summary.Epochs[^1].Total}");
        string[] files =
            ["config.json", "losses.csv", "log.jsonl", "metrics.json", "latent.npy", "model.safetensors"];
        foreach (string f in files)
        {
            Assert.True(File.Exists(Path.Combine(tmp.Path, "run", f)), $"missing {f}");
        }

        // The checkpoint reproduces the saved latent codes exactly.
        var model = Checkpoint.Load(Path.Combine(tmp.Path, "run", "model.safetensors"), backend);
        var (codes, mse) = Trainer.Encode(model, data, backend);
        (double[] saved, int[] shape) = Npy.Read(Path.Combine(tmp.Path, "run", "latent.npy"));
        Assert.Equal(new[] { 1000, 8 }, shape);
        Assert.Equal(saved, codes.Select(c => (double)c).ToArray());
        Assert.Equal(summary.ReconstructionMse, mse, 10);
    }

    [Fact]
    public void Train_Latent2_DrawsLatentPng()
    {
        using var tmp = new TempFolder();
        string small = MakeSmallMnist(tmp, 300);
        string run = tmp.File("run2d");
        var (code, _, err) = Mmae("train", "--data", small, "--latent", "2", "--reference", "pca:2",
            "--epochs", "1", "--batch", "50", "--eval-size", "100", "--out", run);
        Assert.True(code == 0, err);
        Assert.True(File.Exists(Path.Combine(run, "latent.png")));
        var (ecode, eout, eerr) = Mmae("encode", run, "--data", small, "--out", tmp.File("codes.npy"));
        Assert.True(ecode == 0, eerr);
        Assert.Equal(new[] { 300, 2 }, Npy.Read(tmp.File("codes.npy")).Shape);
        Assert.Contains("reconstruction MSE", eout);
    }

    [Theory]
    [InlineData("--batch", "1", "--batch")]
    [InlineData("--lambda", "-1", "--lambda")]
    [InlineData("--lambda", "NaN", "--lambda")]
    [InlineData("--epochs", "0", "--epochs")]
    [InlineData("--reference", "pca:0", "--reference")]
    [InlineData("--reference", "tsne:4", "--reference")]
    [InlineData("--device", "tpu", "--device")]
    [InlineData("--hidden", "100,0", "--hidden")]
    [InlineData("--hidden", "", "--hidden")]
    public void Train_BadOption_ExitsWithUsageErrorNamingIt(string option, string value, string named)
    {
        var (code, _, err) = Mmae("train", option, value);
        Assert.Equal(CommandLine.UsageError, code);
        string first = err.Split('\n')[0];
        Assert.StartsWith("mmae: error:", first);
        Assert.Contains(named, first);
    }

    [Fact]
    public void Train_UnknownOption_ExitsWithUsage()
    {
        var (code, _, err) = Mmae("train", "--frobnicate");
        Assert.Equal(CommandLine.UsageError, code);
        Assert.Contains("unknown option --frobnicate", err);
        Assert.Contains("usage: mmae train", err);
    }

    [Fact]
    public void Help_ListsEveryTrainOption()
    {
        var (code, output, _) = Mmae("train", "--help");
        Assert.Equal(0, code);
        string[] options =
            ["--data", "--latent", "--reference", "--lambda", "--batch", "--epochs", "--seed", "--out"];
        foreach (string o in options)
        {
            Assert.Contains(o, output);
        }

        Assert.Equal(0, Mmae("--help").Code);
    }

    [Fact]
    public void Train_MissingDataFolder_NamesPathAndLeavesNoRun()
    {
        using var tmp = new TempFolder();
        string run = tmp.File("run");
        var (code, _, err) = Mmae("train", "--data", tmp.File("nope"), "--out", run);
        Assert.Equal(CommandLine.RunError, code);
        Assert.Contains(tmp.File("nope"), err);
        Assert.False(Directory.Exists(run));
    }

    [Fact]
    public void Train_LabelCountDisagrees_FailsNamingFiles()
    {
        using var tmp = new TempFolder();
        string dir = Path.Combine(tmp.Path, "d");
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "images-idx3-ubyte"),
            TrainTestSupport.Idx(0x803, [3, 28, 28], TrainTestSupport.Pattern(3 * 784, 1)));
        File.WriteAllBytes(Path.Combine(dir, "labels-idx1-ubyte"),
            TrainTestSupport.Idx(0x801, [2], [1, 2]));
        var (code, _, err) = Mmae("train", "--data", dir, "--out", tmp.File("run"));
        Assert.Equal(CommandLine.RunError, code);
        Assert.Single(err.TrimEnd().Split('\n'));
        Assert.Contains("labels-idx1-ubyte", err);
    }

    [Fact]
    public void Train_ReferenceRowsDoNotMatch_FailsAndLeavesNothingHalfWritten()
    {
        using var tmp = new TempFolder();
        string small = MakeSmallMnist(tmp, 50);
        string refFile = tmp.File("ref.npy");
        Npy.Write(refFile, Enumerable.Range(0, 49 * 3).Select(i => (float)Math.Sin(i)).ToArray(), 49, 3);
        string run = tmp.File("run");
        var (code, _, err) = Mmae("train", "--data", small, "--reference", "file:" + refFile,
            "--batch", "10", "--out", run);
        Assert.Equal(CommandLine.RunError, code);
        Assert.Contains(refFile, err);
        Assert.Contains("(49, 3)", err);
        Assert.False(Directory.Exists(run));
        Assert.False(Directory.Exists(run + ".partial"));
    }

    [Fact]
    public void Train_ExistingOutFolder_IsNotOverwritten()
    {
        using var tmp = new TempFolder();
        string run = tmp.File("run");
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, "keep.txt"), "earlier work");
        var (code, _, err) = Mmae("train", "--out", run, "--epochs", "1");
        Assert.Equal(CommandLine.RunError, code);
        Assert.Contains("already exists", err);
        Assert.Equal("earlier work", File.ReadAllText(Path.Combine(run, "keep.txt")));
    }

    // The first n bundled digits as a raw IDX folder.
    internal static string MakeSmallMnist(TempFolder tmp, int n)
    {
        IdxImages images = IdxReader.ReadImages(Path.Combine(MnistFolder, "images-idx3-ubyte.gz"));
        byte[] labels = IdxReader.ReadLabels(Path.Combine(MnistFolder, "labels-idx1-ubyte.gz"));
        string dir = Path.Combine(tmp.Path, "mnist" + n);
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "images-idx3-ubyte"),
            TrainTestSupport.Idx(0x803, [n, 28, 28], images.Pixels.AsSpan(0, n * 784).ToArray()));
        File.WriteAllBytes(Path.Combine(dir, "labels-idx1-ubyte"),
            TrainTestSupport.Idx(0x801, [n], labels.AsSpan(0, n).ToArray()));
        return dir;
    }
}
