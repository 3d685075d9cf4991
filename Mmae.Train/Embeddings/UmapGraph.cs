namespace Mmae.Train.Embeddings;

/// <summary>
/// UMAP's fuzzy simplicial set: each point's neighbour distances turned into memberships in
/// [0, 1] by a local connectivity offset and a calibrated bandwidth, then combined by fuzzy
/// union into a symmetric graph (McInnes, Healy and Melville, 2018).
/// </summary>
/// <remarks>
/// For point i with neighbour distances d_1 ≤ … ≤ d_k: ρ_i is the distance to its
/// ⌊c⌋-th nearest non-identical neighbour, interpolated towards the next one for a fractional
/// local connectivity c, and σ_i solves Σ_j exp(−max(0, d_j − ρ_i) / σ_i) = log2(k + 1)
/// (k + 1 counts the point itself, as n_neighbors does) by binary search. Then
/// a_ij = exp(−max(0, d_ij − ρ_i) / σ_i), so the nearest ⌊c⌋ neighbours get 1, and the graph
/// is A + Aᵀ − A ∘ Aᵀ, computed as 1 − (1 − A) ∘ (1 − Aᵀ) so that a membership of 1 stays
/// exactly 1. σ_i is kept at least 1e-3 times the mean neighbour distance, so
/// duplicate-heavy rows do not collapse.
/// </remarks>
public static class UmapGraph
{
    private const int SearchSteps = 64;
    private const double SumTolerance = 1e-5;
    private const double MinScale = 1e-3;

    /// <summary>Builds the symmetric membership graph from a neighbour graph.</summary>
    /// <param name="graph">k nearest neighbours (Euclidean distances), self excluded.</param>
    /// <param name="localConnectivity">Neighbours assumed fully connected, at least 0; 1 is
    /// UMAP's default.</param>
    /// <param name="threads">Compute threads; 0 means every core.</param>
    /// <returns>A symmetric matrix with values in [0, 1] and an empty diagonal.</returns>
    public static SparseMatrix Build(NeighbourGraph graph, double localConnectivity, int threads)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentOutOfRangeException.ThrowIfNegative(localConnectivity);
        int n = graph.Count;
        int k = graph.K;
        double meanAll = 0;
        foreach (float dist in graph.Distances)
        {
            meanAll += dist;
        }

        meanAll /= graph.Distances.Length;
        double target = Math.Log2(k + 1);
        double[] memberships = new double[n * k];
        Parallel.For(0, n, RowMath.Parallelism(threads), i =>
        {
            ReadOnlySpan<float> dist = graph.RowDistances(i);
            double rho = LocalOffset(dist, localConnectivity);
            double sigma = Bandwidth(dist, rho, target);
            double mean = 0;
            foreach (float v in dist)
            {
                mean += v;
            }

            mean /= k;
            sigma = Math.Max(sigma, MinScale * (rho > 0 ? mean : meanAll));
            for (int j = 0; j < k; j++)
            {
                double excess = dist[j] - rho;
                memberships[i * k + j] = excess <= 0 || sigma == 0 ? 1 : Math.Exp(-excess / sigma);
            }
        });

        return SparseMatrix.FromNeighbours(n, k, graph.Indices, memberships)
            .Symmetrize((a, b) => 1 - (1 - a) * (1 - b));
    }

    /// <summary>ρ: the distance to the ⌊c⌋-th nearest non-zero neighbour, interpolated.</summary>
    internal static double LocalOffset(ReadOnlySpan<float> dist, double connectivity)
    {
        int first = 0;
        while (first < dist.Length && dist[first] <= 0)
        {
            first++;
        }

        int nonZero = dist.Length - first;
        if (nonZero == 0)
        {
            return 0;
        }

        if (nonZero < connectivity)
        {
            return dist[^1];
        }

        int whole = (int)Math.Floor(connectivity);
        double fraction = connectivity - whole;
        if (whole == 0)
        {
            return fraction * dist[first];
        }

        double rho = dist[first + whole - 1];
        if (fraction > 0 && first + whole < dist.Length)
        {
            rho += fraction * (dist[first + whole] - rho);
        }

        return rho;
    }

    /// <summary>σ with Σ_j exp(−max(0, d_j − ρ) / σ) = target, by binary search.</summary>
    internal static double Bandwidth(ReadOnlySpan<float> dist, double rho, double target)
    {
        double low = 0;
        double high = double.PositiveInfinity;
        double sigma = 1;
        for (int step = 0; step < SearchSteps; step++)
        {
            double sum = 0;
            foreach (float v in dist)
            {
                double excess = v - rho;
                sum += excess > 0 ? Math.Exp(-excess / sigma) : 1;
            }

            if (Math.Abs(sum - target) < SumTolerance)
            {
                break;
            }

            // The sum grows with σ.
            if (sum > target)
            {
                high = sigma;
                sigma = (low + high) / 2;
            }
            else
            {
                low = sigma;
                sigma = double.IsPositiveInfinity(high) ? sigma * 2 : (low + high) / 2;
            }
        }

        return sigma;
    }
}
