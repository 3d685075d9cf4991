using System.Globalization;
using Mmae.Train.Training;

namespace Mmae.Train.Cli;

/// <summary><c>mmae train</c>: train, evaluate and write a run folder.</summary>
public static class TrainCommand
{
    /// <summary>Parses the options, trains, and returns the exit code.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var o = new TrainOptions();
        string? resumeDir = null;
        OptionTable table = Table(() => o, v => o = v)
            .Add("resume", "RUN_DIR", "none",
                "continue an interrupted run (RUN.partial) or a finished one (with a larger --epochs)",
                v => resumeDir = v);
        if (!table.Parse(args))
        {
            stdout.WriteLine(table.Usage());
            return 0;
        }

        if (table.Positionals.Count > 0)
        {
            throw new UsageException($"unexpected argument '{table.Positionals[0]}'", table.Usage());
        }

        ResumePlan? resume = resumeDir is null
            ? null
            : ResumePlan.Resolve(resumeDir, o, table.Given, table.Usage());
        o = resume?.Options ?? (o with { Data = o.Data is null ? null : Path.GetFullPath(o.Data) });

        ReferenceSpec.Validate(o.Reference, int.MaxValue);
        if ((Objective.Problem(o) ?? UnusedOption(o, table.Given)) is { } why)
        {
            throw new UsageException(why, table.Usage());
        }

        // A computed reference's width is known from the option: check GRAE's l = m before
        // loading data or computing anything.
        ReferenceSpec wanted = ReferenceSpec.Parse(o.Reference, int.MaxValue);
        if (wanted.IsComputed && GraeWidthProblem(o, wanted.Dim) is { } narrow)
        {
            throw new UsageException(narrow, table.Usage());
        }

        var data = CommandLine.LoadData(o.Data, o.DataKind, o.Arch, o.MaxSamples);
        if (ModelFactory.InputProblem(o.Arch, data) is { } mismatch)
        {
            throw new UsageException(mismatch, table.Usage());
        }

        ReferenceSpec.Validate(o.Reference, data.Dim);
        if (o.Batch > data.Count)
        {
            throw new UsageException($"option --batch {o.Batch}: larger than the data set ({data.Count} samples)");
        }

        using DeviceChoice device = Devices.Create(o.Device, o.Threads);
        string outPath = o.Out ?? Path.Combine("runs", o.DefaultRunName());
        var folder = resume?.Folder() ?? RunFolder.Create(outPath);
        using var stop = StopSignal.ListenToConsole(stderr);
        try
        {
            stdout.WriteLine(device.Why);
            PrintOptions(stdout, o, outPath);
            stdout.WriteLine(FormattableString.Invariant(
                $"data: {data.Name}, {data.Count} samples × {data.Dim} features, labels 0..{data.Labels.Max()}"));
            (float[] reference, int refDim) = ResolveReference(o, data, outPath, stdout);
            bool interactive = !Console.IsErrorRedirected && ReferenceEquals(stderr, Console.Error);
            var progress = new ProgressBar(stderr, interactive);
            var trainer = new Trainer(o, device.Backend, stdout, progress)
            {
                Resume = resume?.Restore(device.Backend),
                Stop = stop,
            };
            var summary = trainer.Run(data, reference, refDim, folder);
            if (summary.Interrupted)
            {
                return StopSignal.InterruptedExitCode;
            }

            folder.Commit();
            stdout.WriteLine($"run written to {summary.Folder}");
            return 0;
        }
        catch
        {
            if (folder.Abandon())
            {
                stderr.WriteLine($"mmae: the unfinished run is kept in {folder.WorkPath}; "
                    + $"continue it with: mmae train --resume {folder.WorkPath}");
            }

            throw;
        }
    }

    // The reference the regulariser needs, or one zero column when it needs none (the plain
    // model and TopoAE), so those runs spend no time on an embedding they would not use.
    private static (float[] Rows, int Dim) ResolveReference(TrainOptions o, Data.Dataset data, string outPath,
        TextWriter stdout)
    {
        if (o.Regularizer is "none" or "topo")
        {
            stdout.WriteLine($"reference: not used by --regularizer {o.Regularizer}");
            return (new float[data.Count], 1);
        }

        ReferenceSpec spec = ReferenceSpec.Parse(o.Reference, data.Dim);
        ResolvedReference r = spec.Resolve(data, o.ReferenceParameters, CacheFolder(o, outPath),
            o.Threads, stdout);
        string source = r.Source switch
        {
            "cache" => $"from the cache {r.CachePath}",
            "computed" when r.CachePath is not null => $"computed, cached as {r.CachePath}",
            _ => r.Source,
        };
        stdout.WriteLine(FormattableString.Invariant(
            $"reference: {o.Reference}, {data.Count} × {r.Dim} in {r.Seconds:F1} s ({source})"));
        // A file reference's width is known only once it is read.
        return GraeWidthProblem(o, r.Dim) is { } narrow ? throw new UsageException(narrow) : (r.Rows, r.Dim);
    }

    // GRAE regresses the codes onto the reference coordinates: it needs l = m.
    private static string? GraeWidthProblem(TrainOptions o, int referenceDim)
    {
        return o.Regularizer != "grae" || referenceDim == o.Latent
            ? null
            : FormattableString.Invariant(
                $"option --regularizer grae: needs a reference of the latent's dimension (--latent {o.Latent}), ")
                + FormattableString.Invariant(
                    $"got {referenceDim} from {o.Reference}; use --reference pca:{o.Latent}");
    }

    /// <summary>Where computed references are cached: --cache, or <c>cache/</c> beside the
    /// run folder; null when --cache is off.</summary>
    public static string? CacheFolder(TrainOptions o, string outPath)
    {
        ArgumentNullException.ThrowIfNull(o);
        if (o.Cache == "off")
        {
            return null;
        }

        return o.Cache ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(outPath)) ?? ".", "cache");
    }

    /// <summary>An option given on the command line that this model would ignore, or null: a
    /// run that silently drops what was asked for is worse than a refusal.</summary>
    internal static string? UnusedOption(TrainOptions o, IReadOnlySet<string> given)
    {
        ArgumentNullException.ThrowIfNull(o);
        ArgumentNullException.ThrowIfNull(given);
        if (given.Contains("hidden") && o.Arch != "mlp")
        {
            return $"option --hidden: shapes the mlp network only; --arch {o.Arch} has fixed layers";
        }

        if (given.Contains("beta") && o.Model != "vae")
        {
            return "option --beta: weighs a VAE's KL term; add --model vae or drop --beta";
        }

        bool lambda = given.Contains("lambda") && o.Lambda != 0;
        bool schedule = given.Contains("lambda-schedule") && o.LambdaSchedule != "constant";
        if (o.Regularizer == "none" && (lambda || schedule))
        {
            return $"option --{(lambda ? "lambda" : "lambda-schedule")}: --regularizer none has no term to weigh";
        }

        if (given.Contains("distance") && o.Regularizer != "mm")
        {
            return $"option --distance: sets L_mm's distances, and --regularizer {o.Regularizer} has no L_mm";
        }

        return null;
    }

    private static void PrintOptions(TextWriter w, TrainOptions o, string outPath)
    {
        var rows = new (string, string)[]
        {
            ("data", o.Data ?? "(bundled mnist-10k)"),
            ("latent", o.Latent.ToString(CultureInfo.InvariantCulture)),
            ("hidden", string.Join(",", o.Hidden)),
            ("reference", o.Reference),
            ("ref-params", ReferenceSpec.Parse(o.Reference, int.MaxValue).IsComputed
                ? o.ReferenceParameters.Describe(o.Reference.Split(':')[0]) : ""),
            ("model", $"{o.Model}, arch {o.Arch}, recon {o.ResolvedRecon}"
                + (o.Model == "vae" ? $", beta {o.Beta.ToString(CultureInfo.InvariantCulture)}" : "")),
            ("regularize", o.Regularizer),
            ("distance", o.Regularizer == "mm" ? o.Distance : ""),
            ("lambda", o.Lambda.ToString(CultureInfo.InvariantCulture)
                + (o.LambdaSchedule == "constant" ? "" : $", schedule {o.LambdaSchedule}")),
            ("batch", o.Batch.ToString(CultureInfo.InvariantCulture)),
            ("epochs", o.Epochs.ToString(CultureInfo.InvariantCulture)),
            ("lr", o.LearningRate.ToString(CultureInfo.InvariantCulture)),
            ("seed", o.Seed.ToString(CultureInfo.InvariantCulture)),
            ("checkpoint", o.CheckpointEvery == 0
                ? "end of every epoch"
                : FormattableString.Invariant($"every {o.CheckpointEvery} steps and end of every epoch")),
            ("nonfinite", o.OnNonFinite),
            ("eval-size", o.EvalSize.ToString(CultureInfo.InvariantCulture)),
            ("device", o.Device),
            ("out", outPath),
        };
        foreach ((string k, string v) in rows.Where(r => r.Item2.Length > 0))
        {
            w.WriteLine($"  {k,-10} {v}");
        }
    }

    /// <summary>The options of <c>mmae train</c>, with their defaults.</summary>
    public static OptionTable Table(Func<TrainOptions> get, Action<TrainOptions> set)
    {
        var d = new TrainOptions();
        string Inv(IFormattable f) => f.ToString(null, CultureInfo.InvariantCulture);
        OptionTable table = new OptionTable("train",
                "Train an autoencoder or VAE (the DeepAE or a conv net) with\n"
                + "L = L_rec [+ beta * KL] + lambda * L_reg, evaluate it, and write a run folder (config.json,\n"
                + "losses.csv, log.jsonl, metrics.json, latent.npy, labels.npy, latent-variance.csv/.png,\n"
                + "model.safetensors, checkpoint.safetensors, and latent.png when --latent is 2).")
            .Add("data", "PATH", "bundled MNIST-10k (dSprites-20k for --arch dsprites)",
                "data folder or file: IDX (MNIST, Fashion-MNIST), CIFAR-10 .bin, dSprites, 3D Shapes .h5, CelebA",
                v => set(get() with { Data = v }))
            .Add("data-kind", "KIND", "auto", "format of --data: " + Data.DataSource.KindNames,
                v => set(get() with { DataKind = KindName(v) }))
            .Add("max-samples", "N", "all", "train on a fixed random subset of N samples",
                v => set(get() with { MaxSamples = OptionTable.Int(v, 2) }))
            .Add("latent", "M", Inv(d.Latent), "latent dimension m",
                v => set(get() with { Latent = OptionTable.Int(v, 1) }))
            .Add("reference", "SPEC", d.Reference,
                "reference embedding: pca:L, tsne:L (2, 3), umap:L (2..100), or file:PATH (.npy/.csv)",
                v => set(get() with { Reference = v }))
            .Add("distance", "KIND", d.Distance,
                "distances L_mm compares: squared (the method's) or euclidean",
                v => set(get() with { Distance = v is "squared" or "euclidean"
                    ? v
                    : throw new ArgumentException("expected squared or euclidean") }))
            .Add("lambda", "X", Inv(d.Lambda), "weight of the regulariser (0 = plain AE or VAE)",
                v => set(get() with { Lambda = OptionTable.Float(v, 0f) }))
            .Add("regularizer", "KIND", d.Regularizer,
                "what lambda weighs: mm (manifold matching), grae (coordinates, needs m = l), topo, none",
                v => set(get() with { Regularizer = OneOf(v, "mm", "grae", "topo", "none") }))
            .Add("lambda-schedule", "S", d.LambdaSchedule,
                "lambda over epochs: constant, or step:FACTOR:PERIOD (step:0.1:20 = x0.1 every 20 epochs)",
                v => set(get() with { LambdaSchedule = LambdaSchedule.Parse(v).ToString() }))
            .Add("model", "KIND", d.Model, "ae (autoencoder) or vae (variational; lambda acts on the means)",
                v => set(get() with { Model = OneOf(v, "ae", "vae") }))
            .Add("arch", "NAME", d.Arch,
                "network: mlp (DeepAE, --hidden), or conv nets dsprites (1x64x64), shapes3d, celeba",
                v => set(get() with { Arch = OneOf(v, ModelFactory.ArchNames) }))
            .Add("beta", "X", Inv(d.Beta), "weight of a VAE's KL term",
                v => set(get() with { Beta = OptionTable.Float(v, 0f) }))
            .Add("recon", "KIND", d.Recon,
                "reconstruction loss: auto (mse for ae, sse for vae), mse, sse (per-image sum), bce (binary images)",
                v => set(get() with { Recon = OneOf(v, "auto", "mse", "sse", "bce") }))
            .Add("hidden", "W,W,..", string.Join(",", d.Hidden),
                "hidden layer widths of the encoder (the decoder mirrors them)",
                v => set(get() with { Hidden = Widths(v) }))
            .Add("batch", "P", Inv(d.Batch), "mini-batch size (at least 2)",
                v => set(get() with { Batch = OptionTable.Int(v, 2) }))
            .Add("epochs", "N", Inv(d.Epochs), "passes over the data (about 2 minutes on 2 cores)",
                v => set(get() with { Epochs = OptionTable.Int(v, 1) }))
            .Add("lr", "X", Inv(d.LearningRate), "Adam learning rate",
                v => set(get() with { LearningRate = OptionTable.Float(v, 0f, exclusive: true) }))
            .Add("seed", "S", Inv(d.Seed), "seed of initialisation and shuffling",
                v => set(get() with { Seed = OptionTable.Int(v, 0) }))
            .Add("eval-size", "N", Inv(d.EvalSize),
                "samples (a fixed random subset) for the quality metrics (k up to 100 needs N > 200)",
                v => set(get() with { EvalSize = OptionTable.Int(v, 4) }))
            .Add("checkpoint-every", "N", "0 (epoch ends)",
                "also save checkpoint.safetensors every N steps (0: only at the end of each epoch)",
                v => set(get() with { CheckpointEvery = OptionTable.Int(v, 0) }))
            .Add("on-nonfinite", "ACTION", d.OnNonFinite,
                "on a NaN or Inf in the loss or a gradient: stop, or skip the batch (counted in metrics)",
                v => set(get() with { OnNonFinite = v is "stop" or "skip"
                    ? v
                    : throw new ArgumentException("expected stop or skip") }))
            .Add("out", "DIR", "runs/<time>-<settings>", "run folder to create (must not exist)",
                v => set(get() with { Out = v }))
            .Add("threads", "N", "all cores", "CPU backend threads",
                v => set(get() with { Threads = OptionTable.Int(v, 1, 1024) }))
            .Add("device", "NAME", d.Device, Devices.Help,
                v => set(get() with { Device = Devices.Validate(v) }))
            .Add("cache", "DIR|off", "cache/ beside the run folder", "cache of computed references",
                v => set(get() with { Cache = v }));
        ReferenceParameters.AddOptions(table, () => get().ReferenceParameters,
            v => set(get() with { ReferenceParameters = v }), "reference-seed");
        return table;
    }

    private static string KindName(string v)
    {
        Data.DataSource.ParseKind(v);
        return v.Trim().ToLowerInvariant();
    }

    private static string OneOf(string value, params string[] allowed) => allowed.Contains(value)
        ? value
        : throw new ArgumentException($"expected {string.Join(", ", allowed[..^1])} or {allowed[^1]}");

    // "1000,500,250" → [1000, 500, 250]; every width a whole number of at least 1.
    private static int[] Widths(string value) =>
        value.Split(',').Select(w => OptionTable.Int(w.Trim(), 1)).ToArray();
}
