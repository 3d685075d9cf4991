namespace Mmae.Engine;

/// <summary>
/// Minimum spanning trees of complete graphs given as dense weight matrices. The edges of such a
/// tree are the 0-dimensional persistence pairs of the Vietoris–Rips filtration on the same
/// weights: each edge joins two components at the moment one of them dies.
/// </summary>
public static class MinimumSpanningTree
{
    /// <summary>
    /// The p − 1 edges of a minimum spanning tree of the complete graph on p vertices with edge
    /// weights w[i·p + j], by Prim's algorithm in O(p²) time and O(p) extra memory.
    /// </summary>
    /// <remarks>
    /// Only w[i·p + j] with i the vertex already in the tree is read, so an asymmetric w is
    /// treated as if each edge had the weight seen from the tree's side. Equal weights are broken
    /// towards the lower vertex index, so the result is deterministic; a tree is unique only when
    /// no two edge weights are equal. Any weights that order the edges the same way (distances or
    /// squared distances) give the same tree.
    /// </remarks>
    /// <param name="weights">p×p weights, row-major; the diagonal is ignored.</param>
    /// <param name="p">Number of vertices.</param>
    /// <returns>Edges (I, J) with I the vertex that was already in the tree; empty when p &lt; 2.</returns>
    /// <exception cref="ArgumentException">weights does not hold p×p elements.</exception>
    public static (int I, int J)[] Prim(ReadOnlySpan<double> weights, int p)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(p);
        if (weights.Length != (long)p * p)
        {
            throw new ArgumentException(
                $"MinimumSpanningTree.Prim: expected {p}×{p} = {(long)p * p} weights, got {weights.Length}.",
                nameof(weights));
        }

        if (p < 2)
        {
            return [];
        }

        // best[v] = lightest known edge from the tree to v, parent[v] its tree end; v = 0 starts.
        var best = new double[p];
        var parent = new int[p];
        var inTree = new bool[p];
        inTree[0] = true;
        weights[..p].CopyTo(best);

        var edges = new (int I, int J)[p - 1];
        for (int k = 0; k < p - 1; k++)
        {
            int next = -1;
            for (int v = 0; v < p; v++)
            {
                if (!inTree[v] && (next < 0 || best[v] < best[next]))
                {
                    next = v;
                }
            }

            edges[k] = (parent[next], next);
            inTree[next] = true;
            ReadOnlySpan<double> row = weights.Slice(next * p, p);
            for (int v = 0; v < p; v++)
            {
                if (!inTree[v] && row[v] < best[v])
                {
                    best[v] = row[v];
                    parent[v] = next;
                }
            }
        }

        return edges;
    }
}
