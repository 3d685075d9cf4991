using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Serialization;
using Mmae.Engine;

namespace Mmae.Train.Embeddings;

/// <summary>UMAP settings; the defaults are umap-learn's.</summary>
public sealed record UmapOptions
{
    /// <summary>n_neighbors: the neighbourhood size, the point itself included.</summary>
    public int Neighbours { get; init; } = 15;

    /// <summary>Smallest distance between embedded points the curve allows.</summary>
    public double MinDist { get; init; } = 0.1;

    /// <summary>Scale of the curve's decay.</summary>
    public double Spread { get; init; } = 1;

    /// <summary>SGD epochs; 0 picks <see cref="EpochsFor"/>.</summary>
    public int Epochs { get; init; }

    /// <summary>Initial SGD step size.</summary>
    public double LearningRate { get; init; } = 1;

    /// <summary>Negative samples per positive sample.</summary>
    public int NegativeSampleRate { get; init; } = 5;

    /// <summary>Weight γ of the repulsive term.</summary>
    public double RepulsionStrength { get; init; } = 1;

    /// <summary>Neighbours each point is assumed connected to with membership 1.</summary>
    public double LocalConnectivity { get; init; } = 1;

    /// <summary>How the neighbours are found.</summary>
    [JsonConverter(typeof(JsonStringEnumConverter<NeighbourSearch>))]
    public NeighbourSearch Search { get; init; } = NeighbourSearch.Auto;

    /// <summary>Seed of the neighbour search, the start and the negative samples.</summary>
    public int Seed { get; init; }

    /// <summary>The epoch count for n points: <see cref="Epochs"/>, or when that is 0, 500
    /// below 10,000 points and 200 from 10,000 up.</summary>
    /// <remarks>umap-learn switches to 200 only above 10,000 points. On the bundled 10,000
    /// digits 200 epochs cost 0.002 of trustworthiness@10 (0.959 against 0.961) and take
    /// well under half the time, so the switch is moved down by one point.</remarks>
    public int EpochsFor(int n) => Epochs > 0 ? Epochs : n < 10_000 ? 500 : 200;
}

/// <summary>
/// Uniform manifold approximation and projection (McInnes, Healy and Melville, 2018) to any
/// dimension from 2 to 100.
/// </summary>
/// <remarks>
/// Steps: k nearest neighbours (<see cref="NearestNeighbours"/>), the fuzzy graph
/// (<see cref="UmapGraph"/>), a spectral start (<see cref="SpectralLayout"/>) scaled to
/// [0, 10] per axis, then the SGD layout (<see cref="UmapLayout"/>). With the same seed the
/// result is the same on any thread count.
/// </remarks>
public static class Umap
{
    /// <summary>Largest embedding dimension accepted.</summary>
    public const int MaxDims = 100;

    /// <summary>Embeds n points of dimension d into <paramref name="dims"/> dimensions.</summary>
    /// <param name="x">n × d points, row-major, finite.</param>
    /// <param name="n">Number of points.</param>
    /// <param name="d">Features per point.</param>
    /// <param name="dims">Embedding dimension, 2 to <see cref="MaxDims"/>.</param>
    /// <param name="options">Settings.</param>
    /// <param name="threads">Compute threads; 0 means every core.</param>
    /// <param name="log">Receives a progress line per stage; null for none.</param>
    /// <returns>n × dims coordinates, row-major.</returns>
    /// <exception cref="ArgumentException">x.Length is not n × d, or an option is out of
    /// range (2 ≤ neighbours ≤ n, min_dist ≥ 0, spread &gt; 0, min_dist ≤ spread ×3, learning
    /// rate &gt; 0, negative rate ≥ 1, epochs ≥ 0).</exception>
    /// <exception cref="NotSupportedException">dims is outside 2..100.</exception>
    public static float[] Embed(float[] x, int n, int d, int dims, UmapOptions options, int threads,
        TextWriter? log = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(options);
        Validate(x, n, d, dims, options);
        var clock = Stopwatch.StartNew();
        NeighbourGraph knn = NearestNeighbours.Find(x, n, d, options.Neighbours - 1, options.Search,
            options.Seed, threads);
        Log(log, clock, $"{options.Neighbours - 1} nearest neighbours");
        SparseMatrix graph = UmapGraph.Build(knn, options.LocalConnectivity, threads);
        Log(log, clock, $"fuzzy graph, {graph.NonZeros} edges");
        float[] y = Initialise(graph, dims, options.Seed, threads);
        Log(log, clock, "spectral start");
        (double a, double b) = UmapLayout.FitCurve(options.Spread, options.MinDist);
        UmapLayout.Optimise(graph, y, dims, options, a, b, threads);
        Log(log, clock, string.Create(CultureInfo.InvariantCulture,
            $"{options.EpochsFor(n)} epochs (a = {a:F4}, b = {b:F4})"));
        return y;
    }

    // The spectral layout scaled to [0, 10] on each axis plus noise of std 1e-4 (umap-learn's
    // recipe); uniform in [−10, 10] when the spectral layout is not available.
    private static float[] Initialise(SparseMatrix graph, int dims, int seed, int threads)
    {
        int n = graph.Size;
        double[]? spectral = SpectralLayout.Embed(graph, dims, seed, threads);
        var rng = new Rng((ulong)seed ^ 0xA5A5A5A5UL);
        float[] y = new float[n * dims];
        if (spectral is null)
        {
            for (int e = 0; e < y.Length; e++)
            {
                y[e] = (float)rng.Uniform(-10, 10);
            }

            return y;
        }

        for (int c = 0; c < dims; c++)
        {
            double low = double.PositiveInfinity, high = double.NegativeInfinity;
            for (int i = 0; i < n; i++)
            {
                low = Math.Min(low, spectral[i * dims + c]);
                high = Math.Max(high, spectral[i * dims + c]);
            }

            double scale = high > low ? 10 / (high - low) : 0;
            for (int i = 0; i < n; i++)
            {
                y[i * dims + c] = (float)((spectral[i * dims + c] - low) * scale + 1e-4 * rng.NextGaussian());
            }
        }

        return y;
    }

    private static void Log(TextWriter? log, Stopwatch clock, string what) =>
        log?.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  UMAP: {what} ({clock.Elapsed.TotalSeconds:F1} s)"));

    private static void Validate(float[] x, int n, int d, int dims, UmapOptions o)
    {
        const string Op = "Umap.Embed";
        if (dims < 2 || dims > MaxDims)
        {
            throw new NotSupportedException(
                $"{Op}: UMAP embeds into 2 to {MaxDims} dimensions, got {dims}.");
        }

        if (n < 4 || d < 1 || x.LongLength != (long)n * d)
        {
            throw new ArgumentException(
                $"{Op}: expected x of n x d values with n >= 4, d >= 1, got n = {n}, d = {d} and "
                + $"{x.LongLength} values.", nameof(x));
        }

        if (o.Neighbours < 2 || o.Neighbours > n)
        {
            throw new ArgumentException(
                $"{Op}: neighbours must be in 2..n = 2..{n}, got {o.Neighbours}.", nameof(o));
        }

        if (!(o.MinDist >= 0) || !(o.Spread > 0) || o.MinDist > 3 * o.Spread
            || !(o.LearningRate > 0) || o.NegativeSampleRate < 1 || o.Epochs < 0
            || !(o.LocalConnectivity >= 0) || !(o.RepulsionStrength >= 0))
        {
            throw new ArgumentException(
                $"{Op}: need min_dist in [0, 3 spread], spread > 0, learning rate > 0, negative "
                + $"rate >= 1, epochs >= 0 (0 = auto), local connectivity >= 0; got {o}.", nameof(o));
        }
    }
}
