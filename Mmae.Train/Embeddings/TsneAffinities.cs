namespace Mmae.Train.Embeddings;

/// <summary>
/// The input-space affinities P of t-SNE: per point, Gaussian conditional probabilities whose
/// precision is found by binary search so that their perplexity matches the target, then
/// symmetrised into a joint distribution.
/// </summary>
/// <remarks>
/// For point i with squared distances s_j: p_j|i = exp(−β_i s_j) / Σ_l exp(−β_i s_l), and
/// β_i is chosen so that the entropy H_i = −Σ_j p_j|i ln p_j|i equals ln(perplexity).
/// P_ij = (p_j|i + p_i|j) / (2n), so Σ P = 1. The sparse form keeps the ⌊3·perplexity⌋
/// nearest neighbours of each point, as van der Maaten (2014) does for Barnes-Hut t-SNE.
/// </remarks>
public static class TsneAffinities
{
    /// <summary>|H_i − ln(perplexity)| the binary search stops at, in nats.</summary>
    public const double EntropyTolerance = 1e-5;

    private const int MaxSteps = 200;

    /// <summary>Gaussian conditional probabilities of one point with perplexity
    /// <paramref name="perplexity"/>.</summary>
    /// <param name="squaredDistances">Squared distances from the point to the others.</param>
    /// <param name="perplexity">Target perplexity, &gt; 0 and at most the number of
    /// others (more is unreachable; the search then ends at uniform weights).</param>
    /// <param name="p">Receives the probabilities, summing to 1.</param>
    /// <returns>The precision β found.</returns>
    /// <remarks>Distances are shifted by their minimum before exp, which leaves p unchanged
    /// and keeps exp from underflowing to an all-zero row.</remarks>
    public static double ConditionalRow(ReadOnlySpan<double> squaredDistances, double perplexity,
        Span<double> p)
    {
        double min = double.PositiveInfinity;
        foreach (double s in squaredDistances)
        {
            min = Math.Min(min, s);
        }

        double target = Math.Log(perplexity);
        double beta = 1;
        double low = 0;
        double high = double.PositiveInfinity;
        for (int step = 0; step < MaxSteps; step++)
        {
            // sum = Σ exp(−β (s_j − min)), H = ln(sum) + β Σ (s_j − min) p_j
            double sum = 0;
            double weighted = 0;
            for (int j = 0; j < squaredDistances.Length; j++)
            {
                double shifted = squaredDistances[j] - min;
                double w = Math.Exp(-beta * shifted);
                p[j] = w;
                sum += w;
                weighted += w * shifted;
            }

            double entropy = Math.Log(sum) + beta * weighted / sum;
            for (int j = 0; j < p.Length; j++)
            {
                p[j] /= sum;
            }

            if (Math.Abs(entropy - target) <= EntropyTolerance)
            {
                break;
            }

            // Entropy falls as β grows: too flat means β must rise.
            if (entropy > target)
            {
                low = beta;
                beta = double.IsPositiveInfinity(high) ? beta * 2 : (beta + high) / 2;
            }
            else
            {
                high = beta;
                beta = (beta + low) / 2;
            }
        }

        return beta;
    }

    /// <summary>The sparse joint P over each point's neighbours.</summary>
    /// <param name="graph">The k nearest neighbours of every point (Euclidean distances).</param>
    /// <param name="perplexity">Target perplexity; k should be about 3 × perplexity.</param>
    /// <param name="threads">Compute threads; 0 means every core.</param>
    /// <returns>The symmetric P with Σ P = 1.</returns>
    public static SparseMatrix Sparse(NeighbourGraph graph, double perplexity, int threads)
    {
        ArgumentNullException.ThrowIfNull(graph);
        int n = graph.Count;
        int k = graph.K;
        double[] conditional = new double[n * k];
        Parallel.For(0, n, RowMath.Parallelism(threads), () => new double[k], (i, _, squared) =>
        {
            ReadOnlySpan<float> dist = graph.RowDistances(i);
            for (int j = 0; j < k; j++)
            {
                squared[j] = (double)dist[j] * dist[j];
            }

            ConditionalRow(squared, perplexity, conditional.AsSpan(i * k, k));
            return squared;
        }, _ => { });

        SparseMatrix p = SparseMatrix.FromNeighbours(n, k, graph.Indices, conditional)
            .Symmetrize((a, b) => a + b);
        p.Scale(1.0 / p.Sum());
        return p;
    }

    /// <summary>The dense joint P over all pairs, for small n.</summary>
    /// <param name="x">n × d points, row-major.</param>
    /// <param name="n">Number of points.</param>
    /// <param name="d">Features per point.</param>
    /// <param name="perplexity">Target perplexity, below n − 1.</param>
    /// <param name="threads">Compute threads; 0 means every core.</param>
    /// <returns>n × n symmetric P, row-major, zero diagonal, Σ P = 1.</returns>
    public static double[] Dense(float[] x, int n, int d, double perplexity, int threads)
    {
        ArgumentNullException.ThrowIfNull(x);
        double[] p = new double[(long)n * n];
        Parallel.For(0, n, RowMath.Parallelism(threads),
            () => (Squared: new double[n - 1], Row: new double[n - 1]),
            (i, _, scratch) =>
            {
                ReadOnlySpan<float> xi = x.AsSpan(i * d, d);
                for (int j = 0, o = 0; j < n; j++)
                {
                    if (j != i)
                    {
                        scratch.Squared[o++] = SquaredDistance(xi, x.AsSpan(j * d, d));
                    }
                }

                ConditionalRow(scratch.Squared, perplexity, scratch.Row);
                for (int j = 0, o = 0; j < n; j++)
                {
                    if (j != i)
                    {
                        p[(long)i * n + j] = scratch.Row[o++];
                    }
                }

                return scratch;
            }, _ => { });

        double scale = 1.0 / (2.0 * n);
        for (int i = 0; i < n; i++)
        {
            for (int j = i + 1; j < n; j++)
            {
                double v = (p[(long)i * n + j] + p[(long)j * n + i]) * scale;
                p[(long)i * n + j] = v;
                p[(long)j * n + i] = v;
            }
        }

        return p;
    }

    // In double: the dense path serves small n, where exact affinities are the point.
    private static double SquaredDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        for (int j = 0; j < a.Length; j++)
        {
            double diff = (double)a[j] - b[j];
            sum += diff * diff;
        }

        return sum;
    }
}
