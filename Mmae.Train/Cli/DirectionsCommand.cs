using System.Globalization;
using Mmae.Engine.IO;
using Mmae.Engine.Modules;
using Mmae.Train.Data;
using Mmae.Train.Reports;
using Mmae.Train.Training;

namespace Mmae.Train.Cli;

/// <summary>
/// <c>mmae directions</c> and <c>mmae interpolate</c>: attribute directions in a trained run's
/// latent space by mean latent difference, and decoded walks along them.
/// </summary>
public static class DirectionsCommand
{
    /// <summary>File name of the directions inside a run folder (with a .json beside it).</summary>
    public const string FileName = "directions.npy";

    /// <summary><c>mmae directions RUN_DIR</c>: one direction per factor of the data set.</summary>
    public static int Run(string[] args, TextWriter stdout)
    {
        var common = new FinishedRun();
        var choices = new List<string>();
        OptionTable table = common.Add(new OptionTable("directions RUN_DIR",
                "Attribute directions by mean latent difference, from the posterior means mu of every\n"
                + "sample: discrete factor mean(target) - mean(source), continuous mean(max) - mean(min),\n"
                + "binary (CelebA) mean(present) - mean(absent). Writes RUN_DIR/directions.npy and .json.")
            .Add("factor", "NAME[:S:T]", "every factor (discrete: smallest to largest value)",
                "a factor to compute; for a discrete one, the source and target values (repeatable)",
                choices.Add));
        if (!table.Parse(args))
        {
            stdout.WriteLine(table.Usage());
            return 0;
        }

        var (run, model, data, backend, _) = common.Open(table);
        using DeviceChoice device = backend;
        // Problems of the data or the run, not of the command line: exit 1, no usage text.
        FactorTable factors = data.Factors ?? throw new InvalidOperationException(
            $"the data {data.Name} has no factor table (dSprites, 3D Shapes and CelebA have one)");
        (float[] mu, _) = Trainer.Encode(model, data, backend.Backend);
        var picks = choices.Count > 0
            ? choices.Select(c => Parse(c, factors, table.Usage())).ToList()
            : factors.Factors.Select(f => (f, (double?)null, (double?)null)).ToList();
        // Every direction first, so that an error comes before any table row.
        var directions = new List<AttributeDirection>();
        foreach ((Factor f, double? s, double? t) in picks)
        {
            FactorColumn column = FactorColumn.From(f);
            if (Array.FindIndex(column.Values, double.IsNaN) is int missing and >= 0)
            {
                throw new InvalidOperationException(
                    $"the data {data.Name}: factor '{f.Name}' has no value at sample {missing}");
            }

            double? source = s, target = t;
            if (f.Kind == FactorKind.Discrete && source is null)
            {
                (source, target) = (column.Values.Min(), column.Values.Max());
            }

            try
            {
                directions.Add(AttributeDirections.Compute(mu, data.Count, model.LatentDim, column, source, target));
            }
            catch (ArgumentException ex)
            {
                throw new UsageException($"option --factor {f.Name}: {UsageException.Reason(ex)}", table.Usage());
            }
        }

        stdout.WriteLine($"{"factor",-14} {"kind",-10} {"from",8} {"to",8} {"rows",11} {"|d|",8}");
        foreach (AttributeDirection d in directions)
        {
            double norm = Math.Sqrt(d.Vector.Sum(v => (double)v * v));
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{d.Name,-14} {d.Kind,-10} {d.SourceValue,8:G4} {d.TargetValue,8:G4} "
                + $"{d.SourceCount,5}/{d.TargetCount,-5} {norm,8:F3}"));
        }

        // --out names a folder, as for interpolate.
        if (common.Output is not null)
        {
            Directory.CreateDirectory(common.Output);
        }

        string path = Path.Combine(common.Output ?? run, FileName);
        AttributeDirections.Save(path, directions);
        stdout.WriteLine($"wrote {path} and {Path.ChangeExtension(path, ".json")}");
        return 0;
    }

    /// <summary><c>mmae interpolate RUN_DIR</c>: decode z + α·d for chosen images and α values.</summary>
    public static int Interpolate(string[] args, TextWriter stdout)
    {
        var common = new FinishedRun();
        string? directionsPath = null, factor = null, images = null;
        string alphas = "-1.5:1.5:7";
        OptionTable table = common.Add(new OptionTable("interpolate RUN_DIR",
                "Decode mu(x) + alpha * d for chosen images along a direction from `mmae directions`,\n"
                + "and tile the results into one labelled PNG per factor (a row per image, a column per\n"
                + "alpha): RUN_DIR/interpolate-FACTOR.png.")
            .Add("directions", "FILE|DIR", "RUN_DIR/directions.npy",
                "directions to walk along (a folder: its directions.npy)",
                v => directionsPath = v)
            .Add("factor", "NAME", "every factor in the file", "walk along this factor's direction only",
                v => factor = v)
            .Add("images", "I,J,..", "4 spread over the data", "sample indices of the images to walk from",
                v => images = v)
            .Add("alphas", "FROM:TO:N", alphas, "N values of alpha from FROM to TO", v => alphas = v));
        if (!table.Parse(args))
        {
            stdout.WriteLine(table.Usage());
            return 0;
        }

        var (run, model, data, backend, _) = common.Open(table);
        using DeviceChoice device = backend;
        ImageShape shape = data.Image ?? throw new InvalidOperationException(
            $"the data {data.Name} are not images; interpolation grids need images");
        string dirPath = directionsPath is null ? Path.Combine(run, FileName)
            : Directory.Exists(directionsPath) ? Path.Combine(directionsPath, FileName) : directionsPath;
        if (!File.Exists(dirPath))
        {
            throw new InvalidOperationException($"{dirPath}: no directions; run `mmae directions {run}` first");
        }

        var all = AttributeDirections.Load(dirPath);
        var chosen = factor is null ? all : all.Where(d => d.Name == factor).ToList();
        if (chosen.Count == 0)
        {
            throw new UsageException($"option --factor {factor}: not in {dirPath} "
                + $"(it has {string.Join(", ", all.Select(d => d.Name))})", table.Usage());
        }

        double[] alpha = ParseAlphas(alphas, table.Usage());
        int[] rows;
        try
        {
            rows = images is null
                ? [.. Enumerable.Range(0, 4).Select(i => (int)((long)i * data.Count / 4))]
                : images.Split(',').Select(s => OptionTable.Int(s.Trim(), 0, data.Count - 1)).ToArray();
        }
        catch (ArgumentException ex)
        {
            throw new UsageException($"option --images {images}: {UsageException.Reason(ex)} "
                + $"(sample indices of {data.Name}, 0..{data.Count - 1})", table.Usage());
        }

        Dataset picked = data.Subset(rows);
        (float[] mu, _) = Trainer.Encode(model, picked, backend.Backend);
        int m = model.LatentDim;
        if (common.Output is not null)
        {
            Directory.CreateDirectory(common.Output);
        }

        foreach (AttributeDirection d in chosen)
        {
            var codes = new float[rows.Length * alpha.Length * m];
            for (int r = 0; r < rows.Length; r++)
            {
                for (int a = 0; a < alpha.Length; a++)
                {
                    for (int j = 0; j < m; j++)
                    {
                        codes[((r * alpha.Length) + a) * m + j] = mu[r * m + j] + (float)alpha[a] * d.Vector[j];
                    }
                }
            }

            float[] decoded = Decode(model, codes, rows.Length * alpha.Length, backend.Backend);
            string path = Path.Combine(common.Output ?? run, $"interpolate-{Safe(d.Name)}.png");
            InterpolationGrid.Save(path, decoded, shape.Channels, shape.Height, shape.Width, alpha,
                rows.Select(r => $"#{r}").ToArray(),
                $"{d.Name}: mu + alpha*d ({d.SourceValue:G3} -> {d.TargetValue:G3})",
                data.PixelRange ?? PixelRange.MinusOneToOne);
            stdout.WriteLine($"wrote {path}");
        }

        return 0;
    }

    private static float[] Decode(Autoencoder model, float[] codes, int count, Kernels.IBackend backend)
    {
        model.Eval();
        using var noGrad = Engine.Autograd.NoGrad();
        var ws = new Engine.Workspace(backend);
        using var step = ws.Step();
        Engine.Tensor z = Engine.Tensor.Input(backend, codes, count, model.LatentDim);
        return model.Decode(z).ToArray();
    }

    private static double[] ParseAlphas(string text, string usage)
    {
        string[] p = text.Split(':');
        if (p.Length != 3 || !double.TryParse(p[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double from)
            || !double.TryParse(p[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double to)
            || !int.TryParse(p[2], NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < 2 || n > 25
            || !double.IsFinite(from) || !double.IsFinite(to))
        {
            throw new UsageException($"option --alphas {text}: expected FROM:TO:N with N = 2..25, e.g. -1.5:1.5:7",
                usage);
        }

        return Enumerable.Range(0, n).Select(i => from + (to - from) * i / (n - 1)).ToArray();
    }

    private static (Factor, double?, double?) Parse(string text, FactorTable factors, string usage)
    {
        string[] p = text.Split(':');
        Factor? f = factors.Factors.FirstOrDefault(x => x.Name == p[0]);
        if (f is null)
        {
            throw new UsageException($"option --factor {text}: no factor '{p[0]}'; the data have "
                + string.Join(", ", factors.Factors.Select(x => x.Name)), usage);
        }

        if (p.Length == 1)
        {
            return (f, null, null);
        }

        if (p.Length != 3 || f.Kind != FactorKind.Discrete
            || !double.TryParse(p[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double s)
            || !double.TryParse(p[2], NumberStyles.Float, CultureInfo.InvariantCulture, out double t))
        {
            throw new UsageException($"option --factor {text}: expected NAME, or NAME:SOURCE:TARGET "
                + "(values) for a discrete factor", usage);
        }

        return (f, s, t);
    }

    private static string Safe(string name) =>
        new(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' ? c : '_').ToArray());
}
