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
        string? corrupt = null;
        int? evalSize = null;
        var common = new FinishedRun();
        OptionTable table = common.Add(new OptionTable("evaluate RUN_DIR",
                "Compute every quality figure of a finished run on its evaluation subset:\n"
                + "trustworthiness and continuity (k = 3, 5, 10, 25, 100 and means), MRRE both ways,\n"
                + "distance-matrix RMSE, KL_sigma (0.01, 0.1, 1), reconstruction MSE and, with labels,\n"
                + "linear-probe accuracy, k-means ARI and silhouette. Prints a table and writes\n"
                + "RUN_DIR/evaluation[-KIND-S].json.")
            .Add("eval-size", "N", "the run's --eval-size", "samples in the (fixed, random) evaluation subset",
                v => evalSize = OptionTable.Int(v, 4))
            .Add("corrupt", "KIND:S", "none",
                "corrupt the inputs first: noise, blur or brightness at severity S = 1..5",
                v => corrupt = v),
            "RUN_DIR/evaluation[-KIND-S].json", "where to write the JSON");
        if (!table.Parse(args))
        {
            stdout.WriteLine(table.Usage());
            return 0;
        }

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

        var (run, model, all, choice, o) = common.Open(table);
        using DeviceChoice device = choice;
        stdout.WriteLine(choice.Why);
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
            Enumerable.Range(0, part.Count).ToArray(), common.Threads);
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
        string outPath = common.Output ?? Path.Combine(run, $"evaluation{suffix}.json");
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
