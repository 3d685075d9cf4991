using System.Globalization;
using System.Text.Json.Serialization;
using Mmae.Train.Cli;
using Mmae.Train.Embeddings;

namespace Mmae.Train.Training;

/// <summary>The main parameters of the computed references (t-SNE, UMAP), shared by
/// <c>mmae train</c> and <c>mmae reference</c>.</summary>
public sealed record ReferenceParameters
{
    /// <summary>t-SNE perplexity.</summary>
    public double Perplexity { get; init; } = 30;

    /// <summary>t-SNE early exaggeration.</summary>
    public double Exaggeration { get; init; } = 12;

    /// <summary>t-SNE learning rate; 0 means auto, max(n / exaggeration / 4, 50).</summary>
    public double TsneLearningRate { get; init; }

    /// <summary>t-SNE gradient steps, the 250 exaggerated ones included.</summary>
    public int TsneIterations { get; init; } = 1000;

    /// <summary>UMAP n_neighbors (the point itself included).</summary>
    public int Neighbours { get; init; } = 15;

    /// <summary>UMAP min_dist.</summary>
    public double MinDist { get; init; } = 0.1;

    /// <summary>UMAP epochs; 0 means auto (500 up to 10,000 points, 200 above).</summary>
    public int UmapEpochs { get; init; }

    /// <summary>Neighbour search: auto, exact or descent.</summary>
    [JsonConverter(typeof(JsonStringEnumConverter<NeighbourSearch>))]
    public NeighbourSearch Knn { get; init; } = NeighbourSearch.Auto;

    /// <summary>Seed of t-SNE's random parts and of UMAP.</summary>
    public int Seed { get; init; }

    /// <summary>The t-SNE options these parameters give.</summary>
    public TsneOptions ToTsne() => new()
    {
        Perplexity = Perplexity,
        EarlyExaggeration = Exaggeration,
        LearningRate = TsneLearningRate,
        Iterations = TsneIterations,
        ExaggerationIterations = Math.Min(250, TsneIterations),
        Neighbours = Knn,
        Seed = Seed,
    };

    /// <summary>The UMAP options these parameters give.</summary>
    public UmapOptions ToUmap() => new()
    {
        Neighbours = Neighbours,
        MinDist = MinDist,
        Epochs = UmapEpochs,
        Search = Knn,
        Seed = Seed,
    };

    /// <summary>The parameters that matter for <paramref name="kind"/>, as one canonical line:
    /// what the cache key and the logs use.</summary>
    public string Describe(string kind)
    {
        string lr = TsneLearningRate > 0 ? Invariant($"{TsneLearningRate}") : "auto";
        string epochs = UmapEpochs > 0 ? Invariant($"{UmapEpochs}") : "auto";
        return kind switch
        {
            "tsne" => Invariant($"perplexity={Perplexity} exaggeration={Exaggeration} lr={lr} ")
                + Invariant($"iterations={TsneIterations} theta=0.5 knn={KnnName} seed={Seed}"),
            "umap" => Invariant($"neighbours={Neighbours} min-dist={MinDist} epochs={epochs} ")
                + Invariant($"knn={KnnName} seed={Seed}"),
            _ => "",
        };
    }

    private string KnnName => Knn.ToString().ToLowerInvariant();

    /// <summary>Adds the options that set these parameters to a command's table.</summary>
    /// <param name="table">The command's options.</param>
    /// <param name="get">Reads the current parameters.</param>
    /// <param name="set">Stores changed parameters.</param>
    /// <param name="seedOption">Name of the seed option (train has its own --seed).</param>
    public static OptionTable AddOptions(OptionTable table, Func<ReferenceParameters> get,
        Action<ReferenceParameters> set, string seedOption)
    {
        ArgumentNullException.ThrowIfNull(table);
        var d = new ReferenceParameters();
        return table
            .Add("perplexity", "X", Invariant($"{d.Perplexity}"), "t-SNE perplexity",
                v => set(get() with { Perplexity = OptionTable.Double(v, 0, exclusive: true) }))
            .Add("exaggeration", "X", Invariant($"{d.Exaggeration}"), "t-SNE early exaggeration",
                v => set(get() with { Exaggeration = OptionTable.Double(v, 0, exclusive: true) }))
            .Add("tsne-lr", "X", "auto", "t-SNE learning rate; auto = max(n / exaggeration / 4, 50)",
                v => set(get() with { TsneLearningRate = v == "auto" ? 0 : OptionTable.Double(v, 0, exclusive: true) }))
            .Add("tsne-iterations", "N", Invariant($"{d.TsneIterations}"),
                "t-SNE gradient steps (the first 250 exaggerated)",
                v => set(get() with { TsneIterations = OptionTable.Int(v, 1) }))
            .Add("neighbours", "K", Invariant($"{d.Neighbours}"), "UMAP n_neighbors (the point included)",
                v => set(get() with { Neighbours = OptionTable.Int(v, 2) }))
            .Add("min-dist", "X", Invariant($"{d.MinDist}"), "UMAP min_dist",
                v => set(get() with { MinDist = OptionTable.Double(v, 0) }))
            .Add("umap-epochs", "N", "auto", "UMAP epochs; auto = 500 up to 10,000 samples, else 200",
                v => set(get() with { UmapEpochs = v == "auto" ? 0 : OptionTable.Int(v, 1) }))
            .Add("knn", "HOW", "auto",
                "neighbour search: exact, descent (approximate), or auto (the faster for n and k)",
                v => set(get() with { Knn = ParseKnn(v) }))
            .Add(seedOption, "S", Invariant($"{d.Seed}"), "seed of t-SNE's and UMAP's random choices",
                v => set(get() with { Seed = OptionTable.Int(v, 0) }));
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
