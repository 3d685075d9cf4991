using System.Globalization;
using System.Text.Json;
using Mmae.Train.Cli;
using Mmae.Train.Embeddings;

namespace Mmae.Train.Training;

/// <summary>The main parameters of the computed references (t-SNE, UMAP), shared by
/// <c>mmae train</c> and <c>mmae reference</c>.</summary>
public sealed record ReferenceParameters
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = false };

    /// <summary>t-SNE settings.</summary>
    public TsneOptions Tsne { get; init; } = new();

    /// <summary>UMAP settings.</summary>
    public UmapOptions Umap { get; init; } = new();

    /// <summary>Every setting of <paramref name="kind"/>'s method as one line of JSON: what the
    /// cache key and the logs use, so a new setting can never be left out of the key.</summary>
    public string Describe(string kind) => kind switch
    {
        "tsne" => JsonSerializer.Serialize(Tsne, s_json),
        "umap" => JsonSerializer.Serialize(Umap, s_json),
        _ => "",
    };

    /// <summary>Adds the options that set these parameters to a command's table.</summary>
    /// <param name="table">The command's options.</param>
    /// <param name="get">Reads the current parameters.</param>
    /// <param name="set">Stores changed parameters.</param>
    /// <param name="seedOption">Name of the seed option (train has its own --seed).</param>
    public static OptionTable AddOptions(OptionTable table, Func<ReferenceParameters> get,
        Action<ReferenceParameters> set, string seedOption)
    {
        ArgumentNullException.ThrowIfNull(table);
        var t = new TsneOptions();
        var u = new UmapOptions();
        ReferenceParameters WithTsne(Func<TsneOptions, TsneOptions> change) => get() with { Tsne = change(get().Tsne) };
        ReferenceParameters WithUmap(Func<UmapOptions, UmapOptions> change) => get() with { Umap = change(get().Umap) };
        return table
            .Add("perplexity", "X", Invariant($"{t.Perplexity}"), "t-SNE perplexity",
                v => set(WithTsne(o => o with { Perplexity = OptionTable.Double(v, 0, exclusive: true) })))
            .Add("exaggeration", "X", Invariant($"{t.EarlyExaggeration}"), "t-SNE early exaggeration",
                v => set(WithTsne(o => o with { EarlyExaggeration = OptionTable.Double(v, 0, exclusive: true) })))
            .Add("tsne-lr", "X", "auto", "t-SNE learning rate; auto = max(n / exaggeration / 4, 50)",
                v => set(WithTsne(o => o with
                {
                    LearningRate = v == "auto" ? 0 : OptionTable.Double(v, 0, exclusive: true),
                })))
            .Add("tsne-iterations", "N", Invariant($"{t.Iterations}"),
                $"t-SNE gradient steps (the first {t.ExaggerationIterations} exaggerated)",
                v => set(WithTsne(o => o with
                {
                    Iterations = OptionTable.Int(v, 1),
                    ExaggerationIterations = Math.Min(t.ExaggerationIterations, OptionTable.Int(v, 1)),
                })))
            .Add("neighbours", "K", Invariant($"{u.Neighbours}"), "UMAP n_neighbors (the point included)",
                v => set(WithUmap(o => o with { Neighbours = OptionTable.Int(v, 2) })))
            .Add("min-dist", "X", Invariant($"{u.MinDist}"), "UMAP min_dist",
                v => set(WithUmap(o => o with { MinDist = OptionTable.Double(v, 0) })))
            .Add("umap-epochs", "N", "auto", "UMAP epochs; auto = 500 below 10,000 samples, else 200",
                v => set(WithUmap(o => o with { Epochs = v == "auto" ? 0 : OptionTable.Int(v, 1) })))
            .Add("knn", "HOW", "auto",
                "neighbour search: exact, descent (approximate), or auto (the faster for n and k)",
                v =>
                {
                    NeighbourSearch search = ParseKnn(v);
                    ReferenceParameters p = get();
                    set(p with { Tsne = p.Tsne with { Neighbours = search }, Umap = p.Umap with { Search = search } });
                })
            .Add(seedOption, "S", Invariant($"{t.Seed}"), "seed of t-SNE's and UMAP's random choices",
                v =>
                {
                    int seed = OptionTable.Int(v, 0);
                    ReferenceParameters p = get();
                    set(p with { Tsne = p.Tsne with { Seed = seed }, Umap = p.Umap with { Seed = seed } });
                });
    }

    private static NeighbourSearch ParseKnn(string v) => v switch
    {
        "auto" => NeighbourSearch.Auto,
        "exact" => NeighbourSearch.Exact,
        "descent" => NeighbourSearch.Descent,
        _ => throw new ArgumentException("expected auto, exact or descent"),
    };

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
