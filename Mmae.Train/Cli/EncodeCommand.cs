using Mmae.Engine.IO;
using Mmae.Kernels;
using Mmae.Train.Data;
using Mmae.Train.Output;
using Mmae.Train.Training;

namespace Mmae.Train.Cli;

/// <summary><c>mmae encode RUN_DIR</c>: embed a data set with a trained run's checkpoint.</summary>
public static class EncodeCommand
{
    /// <summary>Parses the options, encodes, and returns the exit code.</summary>
    public static int Run(string[] args, TextWriter stdout)
    {
        string? data = null, output = null, device = "auto";
        int threads = 0;
        var table = new OptionTable("encode RUN_DIR|CHECKPOINT",
                "Embed every sample of a data set with a trained model; writes an n×m float32 .npy\n"
                + "and prints the reconstruction MSE.")
            .Add("data", "PATH", "the run's own data", "data to embed (a bare checkpoint file: bundled MNIST-10k)",
                v => data = v)
            .Add("out", "FILE", "RUN_DIR/encoded.npy", "where to write the codes", v => output = v)
            .Add("threads", "N", "all cores", "CPU backend threads", v => threads = OptionTable.Int(v, 1, 1024))
            .Add("device", "NAME", "auto", Devices.Help, v => device = Devices.Validate(v));
        if (!table.Parse(args))
        {
            stdout.WriteLine(table.Usage());
            return 0;
        }

        if (table.Positionals.Count != 1)
        {
            throw new UsageException("expected one run folder or checkpoint file", table.Usage());
        }

        string target = table.Positionals[0];
        string checkpoint = Directory.Exists(target) ? Path.Combine(target, "model.safetensors") : target;
        if (!File.Exists(checkpoint))
        {
            bool unfinished = Directory.Exists(target)
                && File.Exists(Path.Combine(target, TrainingCheckpoint.FileName));
            throw new CheckpointFormatException(unfinished
                ? $"{target}: an unfinished run; finish it first with `mmae train --resume {target}`."
                : $"{checkpoint}: checkpoint not found.");
        }

        using DeviceChoice choice = Devices.Create(device, threads);
        IBackend backend = choice.Backend;
        stdout.WriteLine(choice.Why);
        var model = Checkpoint.Load(checkpoint, backend);
        // A run folder remembers its data (kind, subset, the network's bundled default).
        string config = Path.Combine(Path.GetDirectoryName(checkpoint) ?? ".", "config.json");
        Dataset dataset;
        if (data is null && Directory.Exists(target) && File.Exists(config))
        {
            TrainOptions o = EvaluateCommand.ReadConfig(config);
            dataset = CommandLine.LoadData(o.Data, o.DataKind, o.Arch, o.MaxSamples);
        }
        else
        {
            dataset = CommandLine.LoadData(data);
        }

        if (dataset.Dim != model.InputDim)
        {
            throw new InvalidOperationException(
                $"{checkpoint}: the model takes {model.InputDim} features, the data has {dataset.Dim}.");
        }

        var (codes, mse) = Trainer.Encode(model, dataset, backend);
        string outPath = output ?? Path.Combine(Path.GetDirectoryName(checkpoint) ?? ".", "encoded.npy");
        Npy.Write(outPath, codes, dataset.Count, model.LatentDim);
        stdout.WriteLine(FormattableString.Invariant(
            $"encoded {dataset.Count} samples to {outPath} ({dataset.Count} × {model.LatentDim})"));
        stdout.WriteLine(FormattableString.Invariant($"reconstruction MSE {mse:F5}"));
        return 0;
    }
}
