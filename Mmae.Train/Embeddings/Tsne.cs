using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Serialization;
using Mmae.Engine;

namespace Mmae.Train.Embeddings;

/// <summary>How t-SNE computes its affinities and gradient.</summary>
public enum TsneMethod
{
    /// <summary>Exact up to <see cref="Tsne.ExactLimit"/> points, Barnes-Hut above.</summary>
    Auto,

    /// <summary>Dense P over all pairs and the exact O(n²) gradient.</summary>
    Exact,

    /// <summary>P over ⌊3·perplexity⌋ neighbours and Barnes-Hut repulsion.</summary>
    BarnesHut,
}

/// <summary>Where t-SNE starts.</summary>
public enum TsneInit
{
    /// <summary>The first L principal components, scaled so the first has std 1e-4.</summary>
    Pca,

    /// <summary>Gaussian with std 1e-4, from the seed.</summary>
    Random,
}

/// <summary>t-SNE settings; the defaults are scikit-learn's (version 1.2).</summary>
public sealed record TsneOptions
{
    /// <summary>Perplexity: the effective number of neighbours of each point.</summary>
    public double Perplexity { get; init; } = 30;

    /// <summary>Factor α on P during the first <see cref="ExaggerationIterations"/>.</summary>
    public double EarlyExaggeration { get; init; } = 12;

    /// <summary>Gradient-descent step; 0 picks <see cref="AutoLearningRate"/>.</summary>
    public double LearningRate { get; init; }

    /// <summary>Total gradient steps, early exaggeration included.</summary>
    public int Iterations { get; init; } = 1000;

    /// <summary>Steps with exaggerated P and momentum 0.5 (then 0.8).</summary>
    public int ExaggerationIterations { get; init; } = 250;

    /// <summary>Barnes-Hut opening angle θ; 0 is exact.</summary>
    public double Theta { get; init; } = 0.5;

    /// <summary>Exact or Barnes-Hut.</summary>
    [JsonConverter(typeof(JsonStringEnumConverter<TsneMethod>))]
    public TsneMethod Method { get; init; } = TsneMethod.Auto;

    /// <summary>Starting layout.</summary>
    [JsonConverter(typeof(JsonStringEnumConverter<TsneInit>))]
    public TsneInit Init { get; init; } = TsneInit.Pca;

    /// <summary>How the Barnes-Hut method finds neighbours.</summary>
    [JsonConverter(typeof(JsonStringEnumConverter<NeighbourSearch>))]
    public NeighbourSearch Neighbours { get; init; } = NeighbourSearch.Auto;

    /// <summary>Seed of the random initialisation and the approximate neighbour search.</summary>
    public int Seed { get; init; }

    /// <summary>scikit-learn's automatic step, max(n / α / 4, 50) (Belkina et al. 2019 and
    /// openTSNE use n / α with a gradient that lacks the factor 4; the steps are the same).</summary>
    public static double AutoLearningRate(int n, double exaggeration) =>
        Math.Max(n / exaggeration / 4, 50);
}

/// <summary>
/// t-distributed stochastic neighbour embedding (van der Maaten and Hinton, 2008) to 2 or 3
/// dimensions.
/// </summary>
/// <remarks>
/// <para>Gradient descent on KL(P ‖ Q) with momentum (0.5 during early exaggeration, 0.8
/// after) and per-coordinate gains (+0.2 when the gradient's sign flips against the last
/// step, ×0.8 otherwise, at least 0.01), as scikit-learn and the reference implementation do.
/// The kernel is the Cauchy kernel 1 / (1 + d²) in 2-D and 3-D alike (scikit-learn uses
/// L − 1 degrees of freedom in 3-D).</para>
/// <para>The result depends on the seed only through a random start and the approximate
/// neighbour search; every parallel sum runs over fixed chunks in a fixed order, so the
/// thread count does not change it.</para>
/// </remarks>
public static class Tsne
{
    /// <summary>Up to this many points <see cref="TsneMethod.Auto"/> is exact.</summary>
    public const int ExactLimit = 1000;

    // Scale of the initial layout: the std of the first coordinate (scikit-learn, openTSNE).
    private const double InitialScale = 1e-4;

    /// <summary>Embeds n points of dimension d into <paramref name="dims"/> dimensions.</summary>
    /// <param name="x">n × d points, row-major, finite.</param>
    /// <param name="n">Number of points.</param>
    /// <param name="d">Features per point.</param>
    /// <param name="dims">Embedding dimension, 2 or 3.</param>
    /// <param name="options">Settings.</param>
    /// <param name="threads">Compute threads; 0 means every core.</param>
    /// <param name="log">Receives a progress line now and then; null for none.</param>
    /// <returns>n × dims coordinates, row-major.</returns>
    /// <exception cref="ArgumentException">x.Length is not n × d, or an option is out of
    /// range (perplexity must be positive and below n − 1, exaggeration and learning rate
    /// positive, iterations at least the exaggeration iterations, θ in [0, 1]).</exception>
    /// <exception cref="NotSupportedException">dims is not 2 or 3.</exception>
    public static float[] Embed(float[] x, int n, int d, int dims, TsneOptions options, int threads,
        TextWriter? log = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(options);
        Validate(x, n, d, dims, options);
        var clock = Stopwatch.StartNew();
        bool exact = options.Method == TsneMethod.Exact
            || (options.Method == TsneMethod.Auto && n <= ExactLimit);
        TsneGradient gradient;
        if (exact)
        {
            double[] p = TsneAffinities.Dense(x, n, d, options.Perplexity, threads);
            gradient = new ExactTsneGradient(p, n, dims, threads);
        }
        else
        {
            int k = Math.Min(n - 1, (int)(3 * options.Perplexity));
            NeighbourGraph graph = NearestNeighbours.Find(x, n, d, k, options.Neighbours,
                options.Seed, threads);
            Log(log, clock, $"{k} nearest neighbours");
            SparseMatrix p = TsneAffinities.Sparse(graph, options.Perplexity, threads);
            gradient = dims == 2
                ? new BarnesHutTsneGradient<Plane>(p, options.Theta, threads)
                : new BarnesHutTsneGradient<Space>(p, options.Theta, threads);
        }

        Log(log, clock, exact ? "exact affinities" : "sparse affinities");
        double[] y = Initialise(x, n, d, dims, options);
        Optimise(y, gradient, n, options, threads, log, clock);
        return Array.ConvertAll(y, v => (float)v);
    }

    private static double[] Initialise(float[] x, int n, int d, int dims, TsneOptions options)
    {
        double[] y = new double[n * dims];
        if (options.Init == TsneInit.Pca && d >= dims)
        {
            float[] pcs = Pca.Fit(x, n, d, dims).Transform(x, n);
            double std = StandardDeviation(pcs, n, dims);
            double scale = std > 0 ? InitialScale / std : 0;
            for (int e = 0; e < y.Length; e++)
            {
                y[e] = pcs[e] * scale;
            }

            if (std > 0)
            {
                return y;
            }
        }

        var rng = new Rng((ulong)options.Seed);
        for (int e = 0; e < y.Length; e++)
        {
            y[e] = InitialScale * rng.NextGaussian();
        }

        return y;
    }

    // Standard deviation of column 0 (population form, as NumPy's std).
    private static double StandardDeviation(float[] y, int n, int dims)
    {
        double mean = 0;
        for (int i = 0; i < n; i++)
        {
            mean += y[i * dims];
        }

        mean /= n;
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            double c = y[i * dims] - mean;
            sum += c * c;
        }

        return Math.Sqrt(sum / n);
    }

    private static void Optimise(double[] y, TsneGradient gradient, int n, TsneOptions o,
        int threads, TextWriter? log, Stopwatch clock)
    {
        double rate = o.LearningRate > 0 ? o.LearningRate : TsneOptions.AutoLearningRate(n, o.EarlyExaggeration);
        double[] dy = new double[y.Length];
        double[] step = new double[y.Length];
        double[] gains = new double[y.Length];
        Array.Fill(gains, 1.0);
        ParallelOptions parallel = RowMath.Parallelism(threads);
        const int Chunk = 4096;
        for (int it = 0; it < o.Iterations; it++)
        {
            bool early = it < o.ExaggerationIterations;
            double momentum = early ? 0.5 : 0.8;
            gradient.Compute(y, early ? o.EarlyExaggeration : 1, dy);
            Parallel.For(0, (y.Length + Chunk - 1) / Chunk, parallel, chunk =>
            {
                int end = Math.Min(y.Length, (chunk + 1) * Chunk);
                for (int e = chunk * Chunk; e < end; e++)
                {
                    // Delta-bar-delta gains: grow while the gradient keeps opposing the last step.
                    double gain = dy[e] * step[e] < 0 ? gains[e] + 0.2 : gains[e] * 0.8;
                    gains[e] = Math.Max(gain, 0.01);
                    step[e] = momentum * step[e] - rate * gains[e] * dy[e];
                    y[e] += step[e];
                }
            });

            if ((it + 1) % 250 == 0 || it + 1 == o.Iterations)
            {
                Log(log, clock, $"iteration {it + 1}/{o.Iterations}");
            }
        }
    }

    private static void Log(TextWriter? log, Stopwatch clock, string what) =>
        log?.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  t-SNE: {what} ({clock.Elapsed.TotalSeconds:F1} s)"));

    private static void Validate(float[] x, int n, int d, int dims, TsneOptions o)
    {
        const string Op = "Tsne.Embed";
        if (dims is not (2 or 3))
        {
            throw new NotSupportedException(
                $"{Op}: t-SNE embeds into 2 or 3 dimensions, got {dims}; use UMAP for more.");
        }

        if (n < 4 || d < 1 || x.LongLength != (long)n * d)
        {
            throw new ArgumentException(
                $"{Op}: expected x of n x d values with n >= 4, d >= 1, got n = {n}, d = {d} and "
                + $"{x.LongLength} values.", nameof(x));
        }

        if (!(o.Perplexity > 0) || o.Perplexity >= n - 1)
        {
            throw new ArgumentException(
                $"{Op}: perplexity must be positive and below n - 1 = {n - 1}, got {o.Perplexity}.",
                nameof(o));
        }

        if (!(o.EarlyExaggeration > 0) || o.LearningRate < 0 || !double.IsFinite(o.LearningRate)
            || o.Iterations < o.ExaggerationIterations || o.ExaggerationIterations < 0
            || !(o.Theta >= 0 && o.Theta <= 1))
        {
            throw new ArgumentException(
                $"{Op}: need exaggeration > 0, learning rate >= 0 (0 = auto), iterations >= "
                + $"exaggeration iterations >= 0 and theta in [0, 1]; got {o}.", nameof(o));
        }
    }
}
