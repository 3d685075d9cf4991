using System.Diagnostics;
using System.Globalization;
using Mmae.Train.Cli;
using Mmae.Train.Data;
using Mmae.Train.Embeddings;

namespace Mmae.Train.Training;

/// <summary>A reference embedding as it was obtained.</summary>
/// <param name="Rows">n × Dim, row-major.</param>
/// <param name="Dim">Reference dimension L.</param>
/// <param name="Source">"computed", "cache" or "file".</param>
/// <param name="Seconds">Time to compute or load it.</param>
/// <param name="CachePath">The cache entry used or written; null when none.</param>
public sealed record ResolvedReference(float[] Rows, int Dim, string Source, double Seconds,
    string? CachePath);

/// <summary>
/// The reference embedding a run matches, from the text of <c>--reference</c>:
/// <c>pca:L</c> (1 ≤ L ≤ d), <c>tsne:L</c> (L = 2 or 3), <c>umap:L</c> (2 ≤ L ≤ 100), or
/// <c>file:PATH</c> (a .npy of float32/float64, n × L, or a .csv of n rows).
/// </summary>
/// <param name="Kind">pca, tsne, umap or file.</param>
/// <param name="Dim">L for the computed kinds; 0 for a file.</param>
/// <param name="Path">The file of a file reference; null otherwise.</param>
public sealed record ReferenceSpec(string Kind, int Dim, string? Path)
{
    /// <summary>The forms --reference accepts, for messages.</summary>
    public const string Forms = "pca:L, tsne:L (L = 2 or 3), umap:L (L = 2..100), file:PATH (.npy or .csv)";

    /// <summary>Whether this reference is computed here (and so can be cached).</summary>
    public bool IsComputed => Kind != "file";

    /// <summary>The spec as text.</summary>
    public override string ToString() => Kind == "file"
        ? $"file:{Path}"
        : string.Create(CultureInfo.InvariantCulture, $"{Kind}:{Dim}");

    /// <summary>Parses the text of --reference.</summary>
    /// <param name="spec">The option's value.</param>
    /// <param name="inputDim">Features of the data (bounds pca:L).</param>
    /// <exception cref="UsageException">The spec is malformed.</exception>
    public static ReferenceSpec Parse(string spec, int inputDim)
    {
        ArgumentNullException.ThrowIfNull(spec);
        int colon = spec.IndexOf(':', StringComparison.Ordinal);
        string kind = colon < 0 ? spec : spec[..colon];
        string arg = colon < 0 ? "" : spec[(colon + 1)..];
        if (kind == "file")
        {
            return arg.Length > 0
                ? new ReferenceSpec(kind, 0, arg)
                : throw new UsageException($"option --reference {spec}: file needs a path, e.g. file:emb.npy");
        }

        (int low, int high, string example) = kind switch
        {
            "pca" => (1, inputDim, "pca:100"),
            "tsne" => (2, 3, "tsne:2"),
            "umap" => (2, Umap.MaxDims, "umap:2"),
            _ => throw new UsageException(
                $"option --reference {spec}: unknown method '{kind}'; supported: {Forms}"),
        };
        if (!int.TryParse(arg, NumberStyles.None, CultureInfo.InvariantCulture, out int l) || l < low || l > high)
        {
            // Before the data are read the input width is not known (int.MaxValue stands for it).
            string range = high == int.MaxValue ? $"of at least {low} (and at most the input width)"
                : $"from {low} to {high}";
            throw new UsageException($"option --reference {spec}: {kind} needs a dimension {range}, e.g. {example}");
        }

        return new ReferenceSpec(kind, l, null);
    }

    /// <summary>Checks the text of --reference without computing anything.</summary>
    /// <exception cref="UsageException">The spec is malformed.</exception>
    public static void Validate(string spec, int inputDim) => Parse(spec, inputDim);

    /// <summary>Computes or loads the reference rows (n×L, row-major) for <paramref name="data"/>
    /// with default parameters and no cache.</summary>
    /// <exception cref="DataFormatException">A reference file does not match the data.</exception>
    public static (float[] Rows, int Dim) Resolve(string spec, Dataset data)
    {
        ResolvedReference r = Parse(spec, data.Dim).Resolve(data, new ReferenceParameters(), null, 0, null);
        return (r.Rows, r.Dim);
    }

    /// <summary>Computes, loads from the cache, or reads the reference for
    /// <paramref name="data"/>.</summary>
    /// <param name="data">The data set the reference must follow row by row.</param>
    /// <param name="parameters">t-SNE and UMAP parameters.</param>
    /// <param name="cacheFolder">Where computed references are cached; null for no cache.</param>
    /// <param name="threads">Compute threads; 0 means every core.</param>
    /// <param name="log">Progress and cache messages; null for none.</param>
    /// <exception cref="DataFormatException">A reference file does not match the data.</exception>
    /// <exception cref="UsageException">A parameter does not suit the data (for example a
    /// perplexity too large for n).</exception>
    public ResolvedReference Resolve(Dataset data, ReferenceParameters parameters, string? cacheFolder,
        int threads, TextWriter? log)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(parameters);
        var clock = Stopwatch.StartNew();
        if (!IsComputed)
        {
            (float[] rows, int dim) = ReferenceFile.Read(Path!, data.Count);
            return new ResolvedReference(rows, dim, "file", clock.Elapsed.TotalSeconds, null);
        }

        string? cachePath = null;
        string key = "";
        if (cacheFolder is not null)
        {
            var cache = new ReferenceCache(cacheFolder);
            key = ReferenceCache.Key(ReferenceCache.DataHash(data), ToString(), parameters.Describe(Kind));
            cachePath = cache.PathFor(Kind, Dim, key);
            var cached = ReferenceCache.TryLoad(cachePath, key, out string? problem);
            if (cached is { } hit && hit.Rows.Length == data.Count * Dim)
            {
                return new ResolvedReference(hit.Rows, hit.Dim, "cache", clock.Elapsed.TotalSeconds, cachePath);
            }

            if (problem is not null)
            {
                log?.WriteLine($"reference cache: {cachePath} {problem}; recomputing it");
            }
        }

        float[] computed = Compute(data, parameters, threads, log);
        if (cachePath is not null)
        {
            // The cache only saves time: a failed write costs the next run a recomputation,
            // not this run its work.
            try
            {
                ReferenceCache.Store(cachePath, key, computed, data.Count, Dim);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                string why = File.Exists(cacheFolder) ? $"{cacheFolder} is a file, not a folder" : e.Message;
                log?.WriteLine($"reference cache: not written: {why}; continuing without it");
                cachePath = null;
            }
        }

        return new ResolvedReference(computed, Dim, "computed", clock.Elapsed.TotalSeconds, cachePath);
    }

    private float[] Compute(Dataset data, ReferenceParameters parameters, int threads, TextWriter? log)
    {
        int n = data.Count;
        try
        {
            return Kind switch
            {
                "pca" => Pca.Fit(data.Features, n, data.Dim, Dim).Transform(data.Features, n),
                "tsne" => Tsne.Embed(data.Features, n, data.Dim, Dim, parameters.Tsne, threads, log),
                _ => Umap.Embed(data.Features, n, data.Dim, Dim, parameters.Umap, threads, log),
            };
        }
        catch (ArgumentException ex)
        {
            throw new UsageException($"option --reference {this}: {UsageException.Reason(ex)}");
        }
    }
}
