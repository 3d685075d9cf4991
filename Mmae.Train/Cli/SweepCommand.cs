using System.Globalization;
using System.Text;
using System.Text.Json;
using Mmae.Train.Output;
using Mmae.Train.Plots;
using Mmae.Train.Training;

namespace Mmae.Train.Cli;

/// <summary>
/// <c>mmae sweep</c>: models × λ values × seeds trained one after another into one folder, then
/// one CSV with every metric of every run and the comparison chart.
/// </summary>
/// <remarks>
/// Run folders are named <c>MODEL-lamX-sS</c> (<c>ae-sS</c> for the plain autoencoder, which has
/// no λ). Started again with the same --out, a sweep skips the runs that finished and continues
/// an interrupted one from its checkpoint, so an hour-long sweep survives a stop.
/// </remarks>
public static class SweepCommand
{
    /// <summary>The models a sweep can train: name → regulariser.</summary>
    public static readonly IReadOnlyDictionary<string, string> Models = new Dictionary<string, string>
    {
        ["ae"] = "none",
        ["mmae"] = "mm",
        ["grae"] = "grae",
        ["topo"] = "topo",
    };

    // Options a sweep sets for every run itself.
    private static readonly string[] s_owned = ["out", "lambda", "seed", "regularizer", "resume", "cache"];

    /// <summary>Parses the options, runs the sweep, and returns the exit code.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        string[] models = ["ae", "mmae", "grae", "topo"];
        Dictionary<string, float[]> lambdas = ParseLambdas(DefaultLambdas);
        int[] seeds = [0, 1];
        string? outDir = null;
        int split = Array.IndexOf(args, "--");
        string[] own = split < 0 ? args : args[..split];
        string[] pass = split < 0 ? [] : args[(split + 1)..];
        var table = new OptionTable("sweep [options] [-- train options]",
                "Train models x lambda values x seeds one after another (finished runs are skipped when\n"
                + "started again), then write sweep.csv (every metric of every run) and sweep.png\n"
                + "(Trust x Cont against distance RMSE, mean +- s.d. over seeds). Options after -- go to\n"
                + "every `mmae train` run, e.g. -- --epochs 10 --latent 256.")
            .Add("models", "LIST", string.Join(",", models),
                "models: ae (plain), mmae (L_mm to --reference), grae (coordinates of a pca:m reference), topo",
                v => models = List(v, "models", s => Models.ContainsKey(s)
                    ? s
                    : throw new ArgumentException($"unknown model '{s}'; expected {string.Join(", ", Models.Keys)}")))
            .Add("lambdas", "LIST", DefaultLambdas,
                "lambda values: one list for every model, or MODEL=LIST;MODEL=LIST (models left out keep "
                + "their defaults; the losses differ in scale by orders of magnitude)",
                v => lambdas = ParseLambdas(v))
            .Add("seeds", "LIST", "0,1", "seeds; the spread over them is drawn as error bars",
                v => seeds = List(v, "seeds", s => OptionTable.Int(s, 0)))
            .Add("out", "DIR", "sweeps/<data>", "sweep folder (reused: finished runs are skipped)",
                v => outDir = v);
        if (!table.Parse(own))
        {
            stdout.WriteLine(table.Usage());
            return 0;
        }

        if (table.Positionals.Count > 0)
        {
            throw new UsageException($"unexpected argument '{table.Positionals[0]}' (train options go after --)",
                table.Usage());
        }

        TrainOptions baseOptions = CheckTrainOptions(pass, table.Usage());
        outDir ??= Path.Combine("sweeps", baseOptions.Data is null
            ? "mnist-10k"
            : Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(baseOptions.Data))));
        Directory.CreateDirectory(outDir);
        CheckSameTrainOptions(outDir, pass, table.Usage());
        var plan = Plan(models, lambdas, seeds);
        string labels = string.Join(", ", models.Select(m => new SweepRun(m, 0, 0).Label(baseOptions.Model)));
        stdout.WriteLine(FormattableString.Invariant($"sweep: {plan.Count} run{(plan.Count == 1 ? "" : "s")} ")
            + FormattableString.Invariant($"({labels}; seeds {string.Join(", ", seeds)}) into {outDir}"));
        int done = 0;
        foreach (SweepRun run in plan)
        {
            done++;
            string folder = Path.Combine(outDir, run.Name);
            if (File.Exists(Path.Combine(folder, "metrics.json")))
            {
                stdout.WriteLine($"[{done}/{plan.Count}] {run.Name}: finished earlier, skipped");
                continue;
            }

            string partial = folder + ".partial";
            string[] trainArgs = Directory.Exists(partial)
                ? ["--resume", partial]
                : [.. PassFor(run, pass), .. run.Arguments(baseOptions), "--out", folder,
                    "--cache", Path.Combine(outDir, "cache")];
            stdout.WriteLine($"[{done}/{plan.Count}] {run.Name}: mmae train {string.Join(" ", trainArgs)}");
            string logPath = Path.Combine(outDir, run.Name + ".log");
            int code;
            using (var log = new StreamWriter(logPath, append: true))
            {
                code = CommandLine.Run(["train", .. trainArgs], log, log);
            }

            if (code != 0)
            {
                string what = code == StopSignal.InterruptedExitCode ? "was interrupted" : $"failed (exit {code})";
                stderr.WriteLine($"mmae: error: sweep run {run.Name} {what}; its log is {logPath}. "
                    + "Finished runs are kept; start the same sweep again to continue.");
                return code;
            }
        }

        var rows = Collect(outDir, plan);
        string csvPath = Path.Combine(outDir, "sweep.csv");
        WriteCsv(csvPath, rows, baseOptions.Model);
        string pngPath = Path.Combine(outDir, "sweep.png");
        ComparisonPlot.Save(pngPath, Points(rows, baseOptions.Model),
            $"sweep: {Path.GetFileName(Path.GetFullPath(outDir))}",
            "distance-matrix RMSE (lower is better)", "Trust x Cont (mean over k; higher is better)");
        stdout.WriteLine(Table(rows, baseOptions.Model));
        stdout.WriteLine($"wrote {csvPath} and {pngPath}");
        return 0;
    }

    /// <summary>Metric keys the comparison uses, as <c>metrics.json</c> names them.</summary>
    public const string TrustKey = "trustworthiness_mean";

    /// <summary>Mean continuity over the evaluation ks.</summary>
    public const string ContKey = "continuity_mean";

    /// <summary>RMSE between the normalised distance matrices.</summary>
    public const string RmseKey = "distance_rmse";

    /// <summary>One run of a sweep.</summary>
    /// <param name="Model">Model name (a key of <see cref="Models"/>).</param>
    /// <param name="Lambda">λ (0 for the plain autoencoder).</param>
    /// <param name="Seed">Seed.</param>
    public sealed record SweepRun(string Model, float Lambda, int Seed)
    {
        /// <summary>The model as tables and charts name it: with <c>--model vae</c> passed to
        /// train, vae, mmvae, grae-vae or topo-vae.</summary>
        public string Label(string baseModel) => baseModel != "vae" ? Model : Model switch
        {
            "ae" => "vae",
            "mmae" => "mmvae",
            _ => Model + "-vae",
        };

        /// <summary>The run folder's name.</summary>
        public string Name => Model == "ae"
            ? FormattableString.Invariant($"ae-s{Seed}")
            : FormattableString.Invariant($"{Model}-lam{Lambda}-s{Seed}");

        /// <summary>The train options this run sets.</summary>
        public string[] Arguments(TrainOptions o)
        {
            var a = new List<string>
            {
                "--regularizer", Models[Model],
                "--lambda", Lambda.ToString(CultureInfo.InvariantCulture),
                "--seed", Seed.ToString(CultureInfo.InvariantCulture),
            };
            if (Model == "grae")
            {
                // GRAE regresses the codes onto the reference coordinates: it needs l = m.
                a.AddRange(["--reference", FormattableString.Invariant($"pca:{o.Latent}")]);
            }

            return [.. a];
        }
    }

    /// <summary>Default λ values per model: L_mm is divided by p² and lies near 10⁻⁶ on MNIST,
    /// GRAE's coordinate loss near 10², TopoAE's near 10, against a reconstruction MSE near 0.1.</summary>
    public const string DefaultLambdas = "mmae=100,1000,10000;grae=0.001,0.01,0.1;topo=0.01,0.1,1";

    /// <summary>Parses <c>--lambdas</c>: a plain list for every model, or MODEL=LIST pairs
    /// separated by ';' (models not named keep their defaults).</summary>
    public static Dictionary<string, float[]> ParseLambdas(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        float[] Values(string list) => List(list, "lambdas", s => OptionTable.Float(s, 0f, exclusive: true));
        if (!text.Contains('='))
        {
            float[] all = Values(text);
            return Models.Keys.ToDictionary(m => m, _ => all);
        }

        Dictionary<string, float[]> result = text == DefaultLambdas ? [] : ParseLambdas(DefaultLambdas);
        foreach (string part in text.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            string[] kv = part.Split('=', 2, StringSplitOptions.TrimEntries);
            if (kv.Length != 2 || !Models.ContainsKey(kv[0]))
            {
                throw new ArgumentException(
                    $"expected MODEL=LIST with MODEL one of {string.Join(", ", Models.Keys)}, got '{part}'");
            }

            result[kv[0]] = Values(kv[1]);
        }

        return result;
    }

    /// <summary>The runs in order: for each model, each λ (one for the plain AE), each seed.</summary>
    public static List<SweepRun> Plan(
        IEnumerable<string> models, IReadOnlyDictionary<string, float[]> lambdas, IReadOnlyList<int> seeds)
    {
        var plan = new List<SweepRun>();
        foreach (string model in models.Distinct())
        {
            foreach (float lambda in model == "ae" ? [0f] : lambdas[model].Distinct())
            {
                plan.AddRange(seeds.Distinct().Select(s => new SweepRun(model, lambda, s)));
            }
        }

        return plan;
    }

    private static TrainOptions CheckTrainOptions(string[] pass, string usage)
    {
        var o = new TrainOptions();
        OptionTable train = TrainCommand.Table(() => o, v => o = v);
        if (!train.Parse(pass))
        {
            throw new UsageException("--help after -- is not a train option here; see `mmae train --help`", usage);
        }

        string? owned = s_owned.FirstOrDefault(train.Given.Contains);
        if (owned is not null)
        {
            throw new UsageException($"option --{owned} after --: the sweep sets it for every run", usage);
        }

        if (train.Positionals.Count > 0)
        {
            throw new UsageException($"unexpected argument '{train.Positionals[0]}' after --", usage);
        }

        // What every run would refuse, refused before the first one trains (as an mmae run sees
        // them; the plain AE runs leave a λ schedule out, having no λ to schedule).
        if (TrainCommand.UnusedOption(o with { Regularizer = "mm" }, train.Given) is { } unused)
        {
            throw new UsageException($"{unused} (after --)", usage);
        }

        return o;
    }

    // The train options of one run: the plain autoencoder has no λ, so no schedule for it.
    private static string[] PassFor(SweepRun run, string[] pass)
    {
        int at = Array.IndexOf(pass, "--lambda-schedule");
        return run.Model != "ae" || at < 0 ? pass : [.. pass[..at], .. pass[Math.Min(pass.Length, at + 2)..]];
    }

    // A sweep folder belongs to one set of train options: finished runs are only skipped when
    // the sweep is started again with the same ones.
    private static void CheckSameTrainOptions(string outDir, string[] pass, string usage)
    {
        string path = Path.Combine(outDir, "sweep-options.txt");
        string wanted = string.Join(" ", pass);
        if (File.Exists(path))
        {
            string had = File.ReadAllText(path).Trim();
            if (had != wanted)
            {
                throw new UsageException($"{outDir}: this sweep was started with train options '{had}', "
                    + $"not '{wanted}'; finished runs would not match. Use another --out, or the same options",
                    usage);
            }

            return;
        }

        File.WriteAllText(path, wanted + "\n");
    }

    private static T[] List<T>(string value, string option, Func<string, T> parse)
    {
        string[] parts = value.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length == 0 || parts.Any(p => p.Length == 0))
        {
            throw new ArgumentException($"expected a comma-separated list for --{option}");
        }

        T[] items = parts.Select(parse).ToArray();
        if (items.GroupBy(x => x).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            throw new ArgumentException($"'{twice.Key}' appears twice");
        }

        return items;
    }

    /// <summary>Every finished run's metrics, with its model, λ and seed.</summary>
    public static List<(SweepRun Run, Dictionary<string, double> Metrics)> Collect(string outDir, List<SweepRun> plan)
    {
        var rows = new List<(SweepRun, Dictionary<string, double>)>();
        foreach (SweepRun run in plan)
        {
            string path = Path.Combine(outDir, run.Name, "metrics.json");
            if (!File.Exists(path))
            {
                continue;
            }

            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(path));
            var metrics = new Dictionary<string, double>();
            foreach (JsonProperty prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Value.ValueKind == JsonValueKind.Number)
                {
                    metrics[prop.Name] = prop.Value.GetDouble();
                }
                else if (prop.Value.ValueKind == JsonValueKind.String
                    && double.TryParse(prop.Value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture,
                        out double v))
                {
                    metrics[prop.Name] = v;
                }
            }

            if (metrics.TryGetValue(TrustKey, out double t) && metrics.TryGetValue(ContKey, out double c))
            {
                metrics["trust_x_cont"] = t * c;
            }

            rows.Add((run, metrics));
        }

        return rows;
    }

    private static void WriteCsv(
        string path, List<(SweepRun Run, Dictionary<string, double> Metrics)> rows, string baseModel)
    {
        string[] keys = rows.SelectMany(r => r.Metrics.Keys).Distinct().Order(StringComparer.Ordinal).ToArray();
        var sb = new StringBuilder("model,lambda,seed,run");
        foreach (string k in keys)
        {
            sb.Append(',').Append(k);
        }

        sb.AppendLine();
        foreach ((SweepRun run, Dictionary<string, double> m) in rows)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{run.Label(baseModel)},{run.Lambda},{run.Seed},{run.Name}");
            foreach (string k in keys)
            {
                sb.Append(',');
                if (m.TryGetValue(k, out double v))
                {
                    sb.Append(v.ToString("R", CultureInfo.InvariantCulture));
                }
            }

            sb.AppendLine();
        }

        AtomicFile.Write(path, s =>
        {
            using var w = new StreamWriter(s, leaveOpen: true);
            w.Write(sb.ToString());
        });
    }

    /// <summary>Mean and standard deviation over seeds of Trust×Cont and distance RMSE, per model and λ.</summary>
    public static List<ComparisonPoint> Points(
        List<(SweepRun Run, Dictionary<string, double> Metrics)> rows, string baseModel) =>
        rows.GroupBy(r => (r.Run.Model, r.Run.Lambda))
            .Select(g =>
            {
                (double mx, double sx) = MeanSd(g.Select(r => r.Metrics.GetValueOrDefault(RmseKey, double.NaN)));
                (double my, double sy) = MeanSd(g.Select(r => r.Metrics.GetValueOrDefault("trust_x_cont", double.NaN)));
                string label = g.Key.Model == "ae" ? "" : FormattableString.Invariant($"{g.Key.Lambda}");
                return new ComparisonPoint(g.First().Run.Label(baseModel), label, mx, sx, my, sy);
            })
            .ToList();

    private static (double Mean, double Sd) MeanSd(IEnumerable<double> values)
    {
        double[] v = values.ToArray();
        if (v.Length == 0)
        {
            return (double.NaN, double.NaN);
        }

        double mean = v.Average();
        double sd = v.Length < 2 ? 0 : Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
        return (mean, sd);
    }

    private static string Table(List<(SweepRun Run, Dictionary<string, double> Metrics)> rows, string baseModel)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| model | lambda | seeds | Trust x Cont | distance RMSE | recon MSE |");
        sb.AppendLine("| --- | --- | --- | --- | --- | --- |");
        foreach (var g in rows.GroupBy(r => (r.Run.Model, r.Run.Lambda)))
        {
            (double tc, double tcs) = MeanSd(g.Select(r => r.Metrics.GetValueOrDefault("trust_x_cont", double.NaN)));
            (double d, double ds) = MeanSd(g.Select(r => r.Metrics.GetValueOrDefault(RmseKey, double.NaN)));
            (double mse, _) = MeanSd(g.Select(r => r.Metrics.GetValueOrDefault("reconstruction_mse", double.NaN)));
            string lambda = g.Key.Model == "ae" ? "-" : g.Key.Lambda.ToString(CultureInfo.InvariantCulture);
            // One seed has no spread to show.
            string Spread(double sd) => g.Count() < 2 ? "" : FormattableString.Invariant($" ± {sd:F4}");
            sb.AppendLine(FormattableString.Invariant($"| {g.First().Run.Label(baseModel)} | {lambda} ")
                + FormattableString.Invariant(
                    $"| {g.Count()} | {tc:F4}{Spread(tcs)} | {d:F4}{Spread(ds)} | {mse:F4} |"));
        }

        return sb.ToString();
    }
}
