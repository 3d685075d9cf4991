namespace Mmae.Train.Embeddings;

/// <summary>
/// A bounded max-heap of (distance, index) pairs kept in two spans of length k: the root is the
/// farthest of the k nearest seen so far. Ties in distance are broken by index, so the k kept
/// are the k smallest pairs whatever order they arrive in.
/// </summary>
/// <remarks>An empty slot holds (+∞, −1). Used by the exact search to select candidates and by
/// nearest-neighbour descent as each point's current neighbour list.</remarks>
internal static class NeighbourHeap
{
    /// <summary>Fills the heap with empty slots.</summary>
    public static void Clear(Span<float> dist, Span<int> index)
    {
        dist.Fill(float.PositiveInfinity);
        index.Fill(-1);
    }

    /// <summary>Offers (d, j); keeps it when it beats the root and j is not yet in the heap.
    /// <paramref name="flags"/>, when not empty, records <paramref name="flag"/> beside it.</summary>
    /// <returns>Whether the heap changed.</returns>
    public static bool TryPush(Span<float> dist, Span<int> index, Span<bool> flags, float d, int j,
        bool flag)
    {
        if (!Less(d, j, dist[0], index[0]) || index.Contains(j))
        {
            return false;
        }

        // Sift the new pair down from the root, moving larger children up.
        int k = dist.Length;
        int pos = 0;
        while (true)
        {
            int left = 2 * pos + 1;
            if (left >= k)
            {
                break;
            }

            int child = left + 1 < k && Less(dist[left], index[left], dist[left + 1], index[left + 1])
                ? left + 1
                : left;
            if (!Less(d, j, dist[child], index[child]))
            {
                break;
            }

            dist[pos] = dist[child];
            index[pos] = index[child];
            if (!flags.IsEmpty)
            {
                flags[pos] = flags[child];
            }

            pos = child;
        }

        dist[pos] = d;
        index[pos] = j;
        if (!flags.IsEmpty)
        {
            flags[pos] = flag;
        }

        return true;
    }

    /// <summary>Offers (d, j) to a heap without flags.</summary>
    public static bool TryPush(Span<float> dist, Span<int> index, float d, int j) =>
        TryPush(dist, index, [], d, j, flag: false);

    /// <summary>Orders the pairs nearest first (by distance, then index); the spans are no
    /// longer a heap afterwards.</summary>
    public static void SortAscending(Span<float> dist, Span<int> index)
    {
        // k is small (tens to a few hundred), so an insertion sort on the pairs is enough.
        for (int a = 1; a < dist.Length; a++)
        {
            float d = dist[a];
            int j = index[a];
            int b = a - 1;
            while (b >= 0 && Less(d, j, dist[b], index[b]))
            {
                dist[b + 1] = dist[b];
                index[b + 1] = index[b];
                b--;
            }

            dist[b + 1] = d;
            index[b + 1] = j;
        }
    }

    /// <summary>(d1, j1) &lt; (d2, j2) in (distance, index) order.</summary>
    public static bool Less(float d1, int j1, float d2, int j2) =>
        d1 < d2 || (d1 == d2 && j1 < j2);
}
