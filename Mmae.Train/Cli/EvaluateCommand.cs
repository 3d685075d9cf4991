using System.Text.Json;
using Mmae.Engine.IO;
using Mmae.Train.Data;
using Mmae.Train.Metrics;
using Mmae.Train.Output;
using Mmae.Train.Training;

namespace Mmae.Train.Cli;

/// <summary><c>mmae evaluate RUN_DIR</c>: every quality figure of a finished run, as a table
/// and as JSON, optionally on corrupted inputs.</summary>
public static class EvaluateCommand
{
    /// <summary>Parses the options, evaluates, and returns the exit code.</summary>
    public static int Run(string[] args, TextWriter stdout)
    {
        string? data = null, corrupt = null, output = null, device = "auto";
        int? evalSize = null;
        int threads = 0;
        var table = new OptionTable("evaluate RUN_DIR",
                "Compute every quality figure of a finished run on its evaluation subset:\n"
                + "trustworthiness and continuity (k = 3, 5, 10, 25, 100 and means), MRRE both ways,\n"
                + "distance-matrix RMSE, KL_sigma (0.01, 0.1, 1), reconstruction MSE and, with labels,\n"
                + "linear-probe accuracy, k-means ARI and silhouette. Prints a table and writes\n"
                + "RUN_DIR/evaluation[-KIND-S].json.")
            .Add("eval-size", "N", "the run's --eval-size", "samples in the (fixed, random) evaluation subset",
                v => evalSize = OptionTable.Int(v, 4))
            .Add("corrupt", "KIND:S", "none",
                "corrupt the inputs first: noise, blur or brightness at severity S = 1..5",
                v => corrupt = v)
            .Add("data", "PATH", "the run's data", "data set to evaluate on", v => data = v)
            .Add("out", "FILE", "RUN_DIR/evaluation[-KIND-S].json", "where to write the JSON", v => output = v)
            .Add("threads", "N", "all cores", "CPU threads", v => threads = OptionTable.Int(v, 1, 1024))
            .Add("device", "NAME", "auto", Devices.Help, v => device = Devices.Validate(v));
        if (!table.Parse(args))
        {
            stdout.WriteLine(table.Usage());
            return 0;
        }

        if (table.Positionals.Count != 1)
        {
            throw new UsageException("expected one run folder", table.Usage());
        }

        string run = table.Positionals[0];
        string checkpoint = Path.Combine(run, "model.safetensors");
        string configPath = Path.Combine(run, "config.json");
        if (!File.Exists(checkpoint) || !File.Exists(configPath))
        {
            throw new CheckpointFormatException(
                $"{run}: not a finished run folder (needs model.safetensors and config.json).");
        }

        TrainOptions o = ReadConfig(configPath);
        Corruption? corruption = null;
        if (corrupt is not null)
        {
            try
            {
                corruption = Corruption.Parse(corrupt);
            }
            catch (FormatException ex)
            {
                throw new UsageException($"option --corrupt {corrupt}: {DataFile.OneLine(ex.Message)}",
                    table.Usage());
            }
        }

        using DeviceChoice choice = Devices.Create(device, threads);
        stdout.WriteLine(choice.Why);
        var model = Checkpoint.Load(checkpoint, choice.Backend);
        Dataset all = CommandLine.LoadData(data ?? o.Data, data is null ? o.DataKind : "auto", o.Arch);
        if (all.Dim != model.InputDim)
        {
            throw new InvalidOperationException(
                $"{checkpoint}: the model takes {model.InputDim} features, the data has {all.Dim}.");
        }

        int[] subset = Evaluation.Subset(all.Count, Math.Min(evalSize ?? o.EvalSize, all.Count));
        Dataset part = all.Subset(subset);
        Dataset seen;
        try
        {
            seen = corruption is null ? part : corruption.Apply(part, seed: 0);
        }
        catch (NotSupportedException ex)
        {
            throw new UsageException($"option --corrupt {corrupt}: {DataFile.OneLine(ex.Message)}", table.Usage());
        }

        var recon = new float[seen.Count * seen.Dim];
        (float[] codes, _) = Trainer.Encode(model, seen, choice.Backend, recon);

        // The codes of corrupted inputs are measured against the clean data's geometry, and the
        // reconstructions against the clean inputs: how much of the structure survives.
        (QualityReport? report, string? why) = Evaluation.Run(part, part.Features, codes, model.LatentDim, recon,
            Enumerable.Range(0, part.Count).ToArray(), threads);
        if (report is null)
        {
            throw new InvalidOperationException($"{run}: {why}");
        }

        if (why is not null)
        {
            stdout.WriteLine(why);
        }

        stdout.WriteLine($"{run}: {subset.Length} samples of {all.Name}"
            + (corruption is null ? "" : $", inputs corrupted by {corruption}"));
        report.WriteTable(stdout);
        string suffix = corruption is null ? "" : "-" + corruption.ToString().Replace(':', '-');
        string outPath = output ?? Path.Combine(run, $"evaluation{suffix}.json");
        AtomicFile.Write(outPath, report.WriteJson);
        stdout.WriteLine($"wrote {outPath}");
        return 0;
    }

    /// <summary>A run's config.json as options.</summary>
    public static TrainOptions ReadConfig(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<TrainOptions>(File.ReadAllText(path))
                ?? throw new CheckpointFormatException($"{path}: empty configuration.");
        }
        catch (JsonException ex)
        {
            throw new CheckpointFormatException($"{path}: malformed configuration ({ex.Message}).");
        }
    }
}
