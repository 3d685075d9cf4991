using System.Globalization;
using Mmae.Engine.IO;
using Mmae.Kernels.Cpu;
using Mmae.Train.Data;
using Mmae.Train.Output;
using Mmae.Train.Training;
using Xunit;

namespace Mmae.Tests.Train;

/// <summary>
/// Test-sized training runs: 90 images of 10×10 pixels in three classes of blobs, a random
/// 2-D reference, and a DeepAE 100-10-6-3 trained with batches of 20 (5 steps an epoch), so
/// a whole run takes milliseconds and the tests can afford many of them.
/// </summary>
internal static class TinyRuns
{
    public const int Samples = 90;
    public const int StepsPerEpoch = 5;

    /// <summary>Writes the IDX data folder and the reference .npy; returns their paths.</summary>
    public static (string Data, string Reference) WriteInputs(string folder, int seed = 1)
    {
        var rng = new Random(seed);
        byte[] pixels = new byte[Samples * 100];
        byte[] labels = new byte[Samples];
        for (int i = 0; i < Samples; i++)
        {
            labels[i] = (byte)(i % 3);
            int cy = 2 + 3 * (i % 3), cx = 2 + rng.Next(6);
            for (int y = 0; y < 10; y++)
            {
                for (int x = 0; x < 10; x++)
                {
                    double d2 = (y - cy) * (y - cy) + (x - cx) * (x - cx);
                    double value = 255 * Math.Exp(-d2 / 4) + rng.Next(20);
                    pixels[i * 100 + y * 10 + x] = (byte)Math.Clamp(value, 0, 255);
                }
            }
        }

        string data = Path.Combine(folder, "data");
        Directory.CreateDirectory(data);
        File.WriteAllBytes(Path.Combine(data, Dataset.ImagesFileName),
            TrainTestSupport.Idx(IdxReader.ImagesMagic, [Samples, 10, 10], pixels));
        File.WriteAllBytes(Path.Combine(data, Dataset.LabelsFileName),
            TrainTestSupport.Idx(IdxReader.LabelsMagic, [Samples], labels));
        string reference = Path.Combine(folder, "ref.npy");
        float[] rows = Enumerable.Range(0, Samples * 2).Select(_ => (float)rng.NextGaussian()).ToArray();
        Npy.Write(reference, rows, Samples, 2);
        return (data, reference);
    }

    /// <summary>The options of a tiny run over <paramref name="epochs"/> epochs.</summary>
    public static TrainOptions Options(string data, string reference, string output, int epochs = 3) => new()
    {
        Data = data,
        Reference = "file:" + reference,
        Latent = 3,
        Hidden = [10, 6],
        Batch = 20,
        Epochs = epochs,
        EvalSize = 30,
        Threads = 1,
        Out = output,
    };

    /// <summary>The same options as command-line arguments of <c>mmae train</c>.</summary>
    public static List<string> Arguments(TrainOptions o) =>
    [
        "train", "--data", o.Data!, "--reference", o.Reference, "--latent", "3", "--hidden", "10,6",
        "--batch", "20", "--epochs", o.Epochs.ToString(CultureInfo.InvariantCulture), "--eval-size", "30",
        "--threads", o.Threads.ToString(CultureInfo.InvariantCulture), "--out", o.Out!,
    ];

    /// <summary>Reads the checkpoint of the interrupted run <paramref name="o"/> (in o.Out.partial).</summary>
    public static LoadedCheckpoint ReadPartial(TrainOptions o) =>
        TrainingCheckpoint.Read(Path.Combine(o.Out + ".partial", TrainingCheckpoint.FileName));

    /// <summary>Loads the data and reference of <paramref name="o"/> as the command does.</summary>
    public static (Dataset Data, float[] Reference, int Dim) Load(TrainOptions o)
    {
        Dataset data = Dataset.LoadMnistFolder(o.Data!, "tiny");
        (float[] rows, int dim) = ReferenceSpec.Resolve(o.Reference, data);
        return (data, rows, dim);
    }

    /// <summary>
    /// Asserts two finished runs hold the same weights, optimizer state, sample order, codes and
    /// losses, bit for bit (timings and the configuration's thread count aside).
    /// </summary>
    public static void AssertSameRun(string expected, string actual)
    {
        foreach (string file in new[] { "model.safetensors", TrainingCheckpoint.FileName })
        {
            SafeTensorsFile a = SafeTensors.Read(Path.Combine(expected, file));
            SafeTensorsFile b = SafeTensors.Read(Path.Combine(actual, file));
            Assert.Equal(a.Floats.Keys.Order(), b.Floats.Keys.Order());
            foreach ((string name, var t) in a.Floats)
            {
                int[] x = t.Data.Select(BitConverter.SingleToInt32Bits).ToArray();
                int[] y = b.Floats[name].Data.Select(BitConverter.SingleToInt32Bits).ToArray();
                Assert.Equal(x.Length, y.Length);
                int at = Enumerable.Range(0, x.Length).FirstOrDefault(i => x[i] != y[i], -1);
                Assert.True(at < 0, $"{file}: tensor {name} differs at {at}: {t.Data[Math.Max(at, 0)]:R} vs "
                    + $"{b.Floats[name].Data[Math.Max(at, 0)]:R} ({actual})");
            }

            Assert.Equal(a.Ints.Keys.Order(), b.Ints.Keys.Order());
            foreach ((string name, var t) in a.Ints)
            {
                Assert.Equal(t.Data, b.Ints[name].Data);
            }
        }

        Assert.Equal(File.ReadAllBytes(Path.Combine(expected, "latent.npy")),
            File.ReadAllBytes(Path.Combine(actual, "latent.npy")));
        Assert.Equal(LossesWithoutSeconds(expected), LossesWithoutSeconds(actual));
    }

    /// <summary>Trains a new run to its folder; returns the folder's final path.</summary>
    public static string Train(TrainOptions o)
    {
        Train(o, output: out string folder);
        return folder;
    }

    /// <summary>Trains a new run in a fresh folder (o.Out), publishing it unless stopped;
    /// <paramref name="alter"/> may damage the data or the reference first.</summary>
    public static RunSummary Train(
        TrainOptions o,
        out string output,
        StopSignal? stop = null,
        IFileSystem? fs = null,
        Action<Dataset, float[]>? alter = null)
    {
        var folder = RunFolder.Create(o.Out!);
        output = folder.FinalPath;
        try
        {
            return Train(o, new CpuBackend(o.Threads), null, folder, stop, fs, alter);
        }
        catch
        {
            folder.Abandon();
            throw;
        }
    }

    /// <summary>Trains (or resumes) in <paramref name="folder"/> on <paramref name="backend"/>.</summary>
    public static RunSummary Train(
        TrainOptions o,
        CpuBackend backend,
        TrainingState? resume,
        RunFolder folder,
        StopSignal? stop = null,
        IFileSystem? fs = null,
        Action<Dataset, float[]>? alter = null)
    {
        var (data, reference, dim) = Load(o);
        alter?.Invoke(data, reference);
        var trainer = new Trainer(o, backend, TextWriter.Null, new ProgressBar(TextWriter.Null, false))
        {
            Resume = resume,
            Stop = stop,
            FileSystem = fs,
        };
        RunSummary summary = trainer.Run(data, reference, dim, folder);
        if (!summary.Interrupted)
        {
            folder.Commit();
        }

        return summary;
    }

    private static string[] LossesWithoutSeconds(string folder) =>
        File.ReadAllLines(Path.Combine(folder, "losses.csv"))
            .Select(l => string.Join(',', l.Split(',').Where((_, i) => i != 4)))
            .ToArray();
}

/// <summary>Tests over tiny runs: a temporary folder with the data and the reference, deleted
/// after each test.</summary>
public abstract class TinyRunTests : IDisposable
{
    protected TinyRunTests()
    {
        (DataFolder, ReferenceFile) = TinyRuns.WriteInputs(Temp.Path);
    }

    /// <summary>The IDX data folder.</summary>
    protected string DataFolder { get; }

    /// <summary>The reference .npy.</summary>
    protected string ReferenceFile { get; }

    private protected TempFolder Temp { get; } = new();

    public void Dispose()
    {
        Temp.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>A tiny run's options, writing to a folder named <paramref name="name"/>.</summary>
    protected TrainOptions Options(string name, int epochs) =>
        TinyRuns.Options(DataFolder, ReferenceFile, Temp.File(name), epochs);
}
