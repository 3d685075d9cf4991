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
            .Add("eval-size", "N", "all samples", "samples (the first N) used for trustworthiness@10",
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

        int n = evalSize > 0 ? Math.Min(evalSize, dataset.Count) : dataset.Count;
        if (n >= 21)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            double trust = Trustworthiness.Compute(dataset.Features.AsSpan(0, n * dataset.Dim).ToArray(),
                dataset.Dim, r.Rows.AsSpan(0, n * r.Dim).ToArray(), r.Dim, n, 10, threads);
            stdout.WriteLine(Invariant(
                $"trustworthiness@10 {trust:F4} (first {n} samples, {clock.Elapsed.TotalSeconds:F1} s to measure)"));
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
}
