using Mmae.Train.Embeddings;

namespace Mmae.Train.Metrics;

/// <summary>A k-means clustering: one cluster per point and the within-cluster sum of squared
/// distances to the centres.</summary>
/// <param name="Labels">Cluster 0 .. k − 1 of each point.</param>
/// <param name="Inertia">Σ_i |x_i − centre(label_i)|².</param>
public sealed record KMeansResult(int[] Labels, double Inertia);

/// <summary>Lloyd's k-means with k-means++ seeding, seeded and deterministic.</summary>
/// <remarks>
/// <para>n = points, dim = features, k = clusters; x: (n, dim) row-major; centres: (k, dim).
/// Each of <c>inits</c> runs seeds its centres by k-means++ (the first uniformly, each next with
/// probability proportional to the squared distance to the nearest centre so far), then
/// alternates assignment and centre update until no assignment changes or
/// <c>maxIterations</c> is reached; the run with the smallest inertia wins (the earliest on a
/// tie). A cluster left empty takes the point farthest from its centre.</para>
/// <para>Limitation: the seeding draws one candidate per centre; scikit-learn's greedy variant
/// draws 2 + ln k and keeps the best, and its default stops on a centre-shift tolerance, so the
/// two agree on clear cluster structure but not draw for draw.</para>
/// <para>Arithmetic is in double; centres are summed in point order and every random draw
/// comes from the seed and the run index, so results do not depend on the thread count.</para>
/// </remarks>
public static class KMeans
{
    // Points per parallel assignment chunk: enough work to amortise a task.
    private const int ChunkPoints = 512;

    /// <summary>Clusters <paramref name="x"/> into <paramref name="k"/> groups.</summary>
    /// <param name="x">n × dim points, row-major.</param>
    /// <param name="n">Number of points.</param>
    /// <param name="dim">Point dimension.</param>
    /// <param name="k">Number of clusters, 1 ≤ k ≤ n.</param>
    /// <param name="seed">Seed of the k-means++ draws.</param>
    /// <param name="inits">Independent seeded runs; the best is kept.</param>
    /// <param name="maxIterations">Most Lloyd iterations per run.</param>
    /// <param name="threads">Compute threads; 0 means every core.</param>
    /// <exception cref="ArgumentException">The length of x is not n × dim, a value is not
    /// finite, or dim is not positive.</exception>
    /// <exception cref="ArgumentOutOfRangeException">k is outside 1 .. n, or inits or
    /// maxIterations is below 1.</exception>
    public static KMeansResult Fit(
        float[] x,
        int n,
        int dim,
        int k,
        int seed,
        int inits = 10,
        int maxIterations = 300,
        int threads = 0)
    {
        const string Op = "KMeans.Fit";
        PairwiseRows.CheckPoints(Op, x, dim, n, nameof(x));
        if (k < 1 || k > n)
        {
            throw new ArgumentOutOfRangeException(nameof(k),
                $"{Op}: k = {k} clusters must be between 1 and the {n} points.");
        }

        if (inits < 1 || maxIterations < 1)
        {
            throw new ArgumentOutOfRangeException(inits < 1 ? nameof(inits) : nameof(maxIterations),
                $"{Op}: inits = {inits} and maxIterations = {maxIterations} must be at least 1.");
        }

        double[] xd = PairwiseRows.ToDouble(x);
        ParallelOptions parallel = RowMath.Parallelism(threads);
        KMeansResult? best = null;
        for (int run = 0; run < inits; run++)
        {
            ulong runSeed = RowMath.Mix(((ulong)(uint)seed << 32) | (uint)run);
            double[] centres = PlusPlus(xd, n, dim, k, new Random((int)(runSeed >> 33)));
            KMeansResult result = Lloyd(xd, n, dim, k, centres, maxIterations, parallel);
            if (best is null || result.Inertia < best.Inertia)
            {
                best = result;
            }
        }

        return best!;
    }

    // k-means++: centre 0 uniform, centre c drawn with probability ∝ min squared distance to
    // centres 0 .. c − 1.
    private static double[] PlusPlus(double[] x, int n, int dim, int k, Random random)
    {
        double[] centres = new double[k * dim];
        double[] nearest = new double[n];
        int first = random.Next(n);
        x.AsSpan(first * dim, dim).CopyTo(centres);
        for (int i = 0; i < n; i++)
        {
            nearest[i] = RowMath.SquaredDistance<double>(x.AsSpan(i * dim, dim),
                centres.AsSpan(0, dim));
        }

        for (int c = 1; c < k; c++)
        {
            double total = 0;
            foreach (double d in nearest)
            {
                total += d;
            }

            // All points on the chosen centres: any point will do. Should rounding leave the
            // running sum below the target, the last point with weight is taken.
            int pick = random.Next(n);
            double target = random.NextDouble() * total;
            double running = 0;
            for (int i = 0; total > 0 && i < n; i++)
            {
                if (nearest[i] > 0)
                {
                    pick = i;
                }

                running += nearest[i];
                if (running > target && nearest[i] > 0)
                {
                    break;
                }
            }

            Span<double> centre = centres.AsSpan(c * dim, dim);
            x.AsSpan(pick * dim, dim).CopyTo(centre);
            for (int i = 0; i < n; i++)
            {
                double d = RowMath.SquaredDistance<double>(x.AsSpan(i * dim, dim), centre);
                nearest[i] = Math.Min(nearest[i], d);
            }
        }

        return centres;
    }

    private static KMeansResult Lloyd(double[] x, int n, int dim, int k, double[] centres,
        int maxIterations, ParallelOptions parallel)
    {
        int[] labels = new int[n];
        Array.Fill(labels, -1);
        double[] distance = new double[n];
        int[] sizes = new int[k];
        int chunks = (n + ChunkPoints - 1) / ChunkPoints;
        for (int iteration = 0; iteration < maxIterations; iteration++)
        {
            // Assign: nearest centre, the lowest index on a tie; count the changes per chunk.
            int[] changed = new int[chunks];
            Parallel.For(0, chunks, parallel, ch =>
            {
                for (int i = ch * ChunkPoints; i < Math.Min(n, (ch + 1) * ChunkPoints); i++)
                {
                    (int label, double d) = Nearest(x.AsSpan(i * dim, dim), centres, k, dim);
                    distance[i] = d;
                    if (label != labels[i])
                    {
                        labels[i] = label;
                        changed[ch]++;
                    }
                }
            });
            if (changed.Sum() == 0)
            {
                break;
            }

            // Update: each centre the mean of its points, summed in point order.
            Array.Clear(centres);
            Array.Clear(sizes);
            for (int i = 0; i < n; i++)
            {
                Span<double> centre = centres.AsSpan(labels[i] * dim, dim);
                ReadOnlySpan<double> xi = x.AsSpan(i * dim, dim);
                for (int f = 0; f < dim; f++)
                {
                    centre[f] += xi[f];
                }

                sizes[labels[i]]++;
            }

            for (int c = 0; c < k; c++)
            {
                Span<double> centre = centres.AsSpan(c * dim, dim);
                if (sizes[c] == 0)
                {
                    // Empty: move it onto the worst-served point, which then stops being worst.
                    int far = Array.IndexOf(distance, distance.Max());
                    x.AsSpan(far * dim, dim).CopyTo(centre);
                    distance[far] = 0;
                    continue;
                }

                for (int f = 0; f < dim; f++)
                {
                    centre[f] /= sizes[c];
                }
            }
        }

        double inertia = 0;
        for (int i = 0; i < n; i++)
        {
            labels[i] = Nearest(x.AsSpan(i * dim, dim), centres, k, dim).Label;
            inertia += RowMath.SquaredDistance<double>(x.AsSpan(i * dim, dim),
                centres.AsSpan(labels[i] * dim, dim));
        }

        return new KMeansResult(labels, inertia);
    }

    private static (int Label, double Distance) Nearest(ReadOnlySpan<double> xi, double[] centres,
        int k, int dim)
    {
        int best = 0;
        double bestD = double.PositiveInfinity;
        for (int c = 0; c < k; c++)
        {
            double d = RowMath.SquaredDistance<double>(xi, centres.AsSpan(c * dim, dim));
            if (d < bestD)
            {
                best = c;
                bestD = d;
            }
        }

        return (best, bestD);
    }
}
