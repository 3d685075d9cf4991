using System.Globalization;
using Mmae.Train.Data;
using Mmae.Train.Metrics;
using Mmae.Train.Output;
using Mmae.Train.Plots;
using Mmae.Train.Training;

namespace Mmae.Train.Cli;

/// <summary><c>mmae reference SPEC</c>: compute a reference embedding, write it as .npy, and
/// report its trustworthiness and time.</summary>
public static class ReferenceCommand
{
    /// <summary>The default cache folder: beside the default run folders.</summary>
    public static readonly string DefaultCache = Path.Combine("runs", "cache");

    private const int DefaultEvalSize = 10_000;

    /// <summary>Parses the options, computes, and returns the exit code.</summary>
    public static int Run(string[] args, TextWriter stdout)
    {
        string? data = null, output = null, png = null, cache = DefaultCache;
        int threads = 0, evalSize = 0;
        var parameters = new ReferenceParameters();
        var table = new OptionTable("reference SPEC",
                "Compute a reference embedding (SPEC: " + ReferenceSpec.Forms + ") of every sample,\n"
                + "write it as an n×L float32 .npy, print its trustworthiness@10 against the inputs and\n"
                + "the seconds it took, and draw a 2-D one as a PNG coloured by label. Computed\n"
                + "references are cached, so `mmae train --reference SPEC` reuses them.")
            .Add("data", "DIR", "bundled MNIST-10k", "IDX data folder", v => data = v)
            .Add("out", "FILE", "reference-METHOD-L.npy", "where to write the embedding", v => output = v)
            .Add("png", "FILE", "OUT with .png", "scatter plot of a 2-D embedding", v => png = v)
            .Add("cache", "DIR|off", DefaultCache, "cache of computed references; off to skip it",
                v => cache = v == "off" ? null : v)
            .Add("eval-size", "N", "all, up to 10000",
                "samples (the first N) for trustworthiness@10; by default a fixed random 10000 of larger data",
                v => evalSize = OptionTable.Int(v, 21))
            .Add("threads", "N", "all cores", "compute threads", v => threads = OptionTable.Int(v, 1, 1024));
        ReferenceParameters.AddOptions(table, () => parameters, v => parameters = v, "seed");
        if (!table.Parse(args))
        {
            stdout.WriteLine(table.Usage());
            return 0;
        }

        if (table.Positionals.Count != 1)
        {
            throw new UsageException("expected one reference SPEC, e.g. tsne:2", table.Usage());
        }

        ReferenceSpec.Validate(table.Positionals[0], int.MaxValue);
        Dataset dataset = CommandLine.LoadData(data);
        ReferenceSpec spec = ReferenceSpec.Parse(table.Positionals[0], dataset.Dim);
        string outPath = output ?? $"reference-{spec.Kind}-{spec.Dim}.npy";
        stdout.WriteLine(Invariant(
            $"data: {dataset.Name}, {dataset.Count} samples × {dataset.Dim} features"));
        if (spec.IsComputed && spec.Kind != "pca")
        {
            stdout.WriteLine($"reference: {spec} ({parameters.Describe(spec.Kind)})");
        }

        ResolvedReference r = spec.Resolve(dataset, parameters, cache, threads, stdout);
        Npy.Write(outPath, r.Rows, dataset.Count, r.Dim);
        string from = r.Source == "cache" ? $"loaded from the cache {r.CachePath}" : r.Source;
        stdout.WriteLine(Invariant($"{spec}: {dataset.Count} × {r.Dim} written to {outPath} ({from})"));
        stdout.WriteLine(Invariant($"seconds {r.Seconds:F1}"));

        // The measure costs O(n²): past 10,000 samples (dSprites' 20,000 took two minutes) a
        // fixed random subset, as training's evaluation draws it, unless --eval-size says otherwise.
        int[] rows = evalSize > 0
            ? Enumerable.Range(0, Math.Min(evalSize, dataset.Count)).ToArray()
            : Evaluation.Subset(dataset.Count, DefaultEvalSize);
        int n = rows.Length;
        if (n >= 21)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            double trust = Trustworthiness.Compute(Gather(dataset.Features, dataset.Dim, rows), dataset.Dim,
                Gather(r.Rows, r.Dim, rows), r.Dim, n, 10, threads);
            string which = evalSize > 0 ? $"first {n}" : n == dataset.Count ? $"all {n}" : $"a fixed random {n}";
            stdout.WriteLine(Invariant(
                $"trustworthiness@10 {trust:F4} ({which} samples, {clock.Elapsed.TotalSeconds:F1} s to measure)"));
        }

        if (r.Dim == 2)
        {
            string pngPath = png ?? Path.ChangeExtension(outPath, ".png");
            ScatterPlot.Save(pngPath, r.Rows, dataset.Labels, $"{dataset.Name} {spec}");
            stdout.WriteLine($"plot written to {pngPath}");
        }

        return 0;
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    // The rows of a row-major matrix at `rows`, in that order.
    private static float[] Gather(float[] matrix, int width, int[] rows)
    {
        var result = new float[rows.Length * width];
        for (int i = 0; i < rows.Length; i++)
        {
            Array.Copy(matrix, (long)rows[i] * width, result, (long)i * width, width);
        }

        return result;
    }
}
