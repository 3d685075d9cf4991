using Mmae.Engine;

namespace Mmae.Train.Embeddings;

/// <summary>
/// Approximate k nearest neighbours by nearest-neighbour descent (Dong, Moses and Li, 2011),
/// started from the leaves of a random-projection forest.
/// </summary>
/// <remarks>
/// <para>n = points, d = features, k = neighbours. Each point keeps a heap of its k best
/// neighbours so far. Each round every point's recent ("new") and older neighbours, plus the
/// points that list it (reverse neighbours), are sampled into candidate lists of at most
/// <c>min(60, k)</c>; every new–new and new–old pair in a list is a candidate edge, kept when
/// it improves either heap. Rounds stop when fewer than 0.1% of the n k slots change, or
/// after max(5, log2 n) rounds.</para>
/// <para>Before the first round, trees split the points by random hyperplanes (the bisector
/// of two random points) down to leaves of at most max(30, k + 1) points, and every pair in a
/// leaf is offered to the heaps.</para>
/// <para>The result depends only on the seed: random choices come from counter-based hashes
/// of (seed, round, point), distances are computed in parallel against the heaps as they
/// stood at the start of the round, and updates are applied in a fixed order.</para>
/// </remarks>
internal static class NeighbourDescent
{
    // Stop when a round changes fewer than this fraction of the n k heap slots.
    private const double Delta = 0.001;

    private const int MaxCandidates = 60;
    private const int MinLeafSize = 30;
    private const int MaxTrees = 12;

    // Points per local-join work item; fixed, so the update order never depends on threads.
    private const int ChunkSize = 256;

    public static NeighbourGraph Run(float[] x, int n, int d, int k, int seed, int threads)
    {
        NearestNeighbours.Validate(x, n, d, k, "NearestNeighbours.Descent");
        var heaps = new Heaps(n, k);
        ParallelOptions parallel = RowMath.Parallelism(threads);
        SeedFromForest(x, n, d, k, seed, parallel, heaps);
        FillRandom(x, n, d, k, seed, heaps);

        int maxCandidates = Math.Min(MaxCandidates, k);
        int rounds = Math.Max(5, (int)Math.Round(Math.Log2(n)));
        var fresh = new Heaps(n, maxCandidates);
        var old = new Heaps(n, maxCandidates);
        for (int round = 0; round < rounds; round++)
        {
            SampleCandidates(heaps, fresh, old, seed, round);
            List<Update>[] updates = LocalJoin(x, d, heaps, fresh, old, parallel);
            long changes = Apply(heaps, updates);
            if (changes <= Delta * n * k)
            {
                break;
            }
        }

        return heaps.ToGraph();
    }

    // Builds the forest's trees in parallel, then offers every leaf pair, tree by tree.
    private static void SeedFromForest(float[] x, int n, int d, int k, int seed,
        ParallelOptions parallel, Heaps heaps)
    {
        int trees = Math.Min(MaxTrees, 4 + (int)Math.Round(Math.Pow(n, 0.25)));
        int leafSize = Math.Max(MinLeafSize, k + 1);
        var pairs = new List<Update>[trees];
        Parallel.For(0, trees, parallel, t =>
        {
            var rng = new Rng(RowMath.Mix((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)t + 1));
            pairs[t] = LeafPairs(x, n, d, leafSize, rng);
        });
        Apply(heaps, pairs);
    }

    // One random-projection tree: splits index ranges by the bisector hyperplane of two random
    // points until they hold at most leafSize points, and returns every pair inside a leaf.
    private static List<Update> LeafPairs(float[] x, int n, int d, int leafSize, Rng rng)
    {
        int[] order = new int[n];
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
        }

        var pairs = new List<Update>();
        var pending = new Stack<(int Start, int End)>();
        pending.Push((0, n));
        float[] normal = new float[d];
        while (pending.Count > 0)
        {
            (int start, int end) = pending.Pop();
            int size = end - start;
            if (size <= leafSize)
            {
                AddLeafPairs(x, d, order.AsSpan(start, size), pairs);
                continue;
            }

            int mid = SplitByHyperplane(x, d, order.AsSpan(start, size), normal, rng);
            pending.Push((start, start + mid));
            pending.Push((start + mid, end));
        }

        return pairs;
    }

    // Partitions `points` by the sign of normal · x + offset, where the hyperplane bisects two
    // random points; returns the size of the first side, falling back to halves when one side
    // would be empty (all points on one side, or duplicates).
    private static int SplitByHyperplane(float[] x, int d, Span<int> points, float[] normal, Rng rng)
    {
        int a = points[rng.NextInt(points.Length)];
        int b = points[rng.NextInt(points.Length)];
        ReadOnlySpan<float> xa = x.AsSpan(a * d, d);
        ReadOnlySpan<float> xb = x.AsSpan(b * d, d);
        float offset = 0;
        for (int j = 0; j < d; j++)
        {
            normal[j] = xa[j] - xb[j];
            offset -= normal[j] * 0.5f * (xa[j] + xb[j]);
        }

        int left = 0;
        int right = points.Length - 1;
        while (left <= right)
        {
            float margin = RowMath.Dot(normal, x.AsSpan(points[left] * d, d)) + offset;
            bool goesLeft = margin > 0 || (margin == 0 && (rng.NextUInt64() & 1) == 0);
            if (goesLeft)
            {
                left++;
            }
            else
            {
                (points[left], points[right]) = (points[right], points[left]);
                right--;
            }
        }

        return left == 0 || left == points.Length ? points.Length / 2 : left;
    }

    private static void AddLeafPairs(float[] x, int d, ReadOnlySpan<int> leaf, List<Update> pairs)
    {
        for (int p = 0; p < leaf.Length; p++)
        {
            ReadOnlySpan<float> xp = x.AsSpan(leaf[p] * d, d);
            for (int q = p + 1; q < leaf.Length; q++)
            {
                float dist = RowMath.SquaredDistance(xp, x.AsSpan(leaf[q] * d, d));
                pairs.Add(new Update(leaf[p], leaf[q], dist));
            }
        }
    }

    // Points whose heap is not full after the forest (tiny leaves) get random neighbours.
    private static void FillRandom(float[] x, int n, int d, int k, int seed, Heaps heaps)
    {
        for (int i = 0; i < n; i++)
        {
            Span<int> index = heaps.Index.AsSpan(i * k, k);
            ulong stream = RowMath.Mix(((ulong)seed << 32) ^ (ulong)i ^ 0xD1B54A32D192ED03UL);
            for (int attempt = 0; index.Contains(-1) && attempt < 4 * k; attempt++)
            {
                int j = (int)(RowMath.Mix(stream + (ulong)attempt) % (ulong)n);
                if (j != i)
                {
                    float dist = RowMath.SquaredDistance(x.AsSpan(i * d, d), x.AsSpan(j * d, d));
                    heaps.Push(i, j, dist);
                }
            }

            // Deterministic fallback for the unlikely case that random picks kept colliding.
            for (int j = 0; j < n && index.Contains(-1); j++)
            {
                if (j != i)
                {
                    heaps.Push(i, j, RowMath.SquaredDistance(x.AsSpan(i * d, d), x.AsSpan(j * d, d)));
                }
            }
        }
    }

    // Samples each point's new and old neighbours and reverse neighbours into candidate heaps
    // keyed by a random priority, then marks the sampled new neighbours as old.
    private static void SampleCandidates(Heaps heaps, Heaps fresh, Heaps old, int seed, int round)
    {
        fresh.Clear();
        old.Clear();
        int n = heaps.Count;
        int k = heaps.K;
        ulong roundKey = RowMath.Mix(((ulong)seed << 20) ^ (ulong)(round + 1));
        for (int u = 0; u < n; u++)
        {
            for (int s = 0; s < k; s++)
            {
                int v = heaps.Index[u * k + s];
                if (v < 0)
                {
                    continue;
                }

                float priority = (float)RowMath.UnitInterval(roundKey ^ ((ulong)u << 32) ^ (ulong)v);
                Heaps target = heaps.IsNew[u * k + s] ? fresh : old;
                target.Push(u, v, priority);
                target.Push(v, u, priority);
            }
        }

        int c = fresh.K;
        for (int u = 0; u < n; u++)
        {
            ReadOnlySpan<int> sampled = fresh.Index.AsSpan(u * c, c);
            for (int s = 0; s < k; s++)
            {
                if (heaps.IsNew[u * k + s] && sampled.Contains(heaps.Index[u * k + s]))
                {
                    heaps.IsNew[u * k + s] = false;
                }
            }
        }
    }

    // Distances of every new-new and new-old candidate pair of each point, in parallel; a
    // pair is kept when it beats the current farthest neighbour of either end.
    private static List<Update>[] LocalJoin(float[] x, int d, Heaps heaps, Heaps fresh, Heaps old,
        ParallelOptions parallel)
    {
        int n = heaps.Count;
        int c = fresh.K;
        var updates = new List<Update>[(n + ChunkSize - 1) / ChunkSize];
        Parallel.For(0, updates.Length, parallel, chunk =>
        {
            var list = new List<Update>();
            int end = Math.Min(n, (chunk + 1) * ChunkSize);
            for (int v = chunk * ChunkSize; v < end; v++)
            {
                ReadOnlySpan<int> newList = fresh.Index.AsSpan(v * c, c);
                ReadOnlySpan<int> oldList = old.Index.AsSpan(v * c, c);
                for (int p = 0; p < c; p++)
                {
                    int a = newList[p];
                    if (a < 0)
                    {
                        continue;
                    }

                    for (int q = p + 1; q < c; q++)
                    {
                        TryPair(x, d, heaps, a, newList[q], list);
                    }

                    for (int q = 0; q < c; q++)
                    {
                        TryPair(x, d, heaps, a, oldList[q], list);
                    }
                }
            }

            updates[chunk] = list;
        });
        return updates;
    }

    private static void TryPair(float[] x, int d, Heaps heaps, int a, int b, List<Update> list)
    {
        if (b < 0 || a == b)
        {
            return;
        }

        float dist = RowMath.SquaredDistance(x.AsSpan(a * d, d), x.AsSpan(b * d, d));
        if (dist < heaps.Farthest(a) || dist < heaps.Farthest(b))
        {
            list.Add(new Update(a, b, dist));
        }
    }

    private static long Apply(Heaps heaps, List<Update>[] updates)
    {
        long changes = 0;
        foreach (List<Update> list in updates)
        {
            foreach (Update u in list)
            {
                changes += heaps.Push(u.A, u.B, u.Distance) ? 1 : 0;
                changes += heaps.Push(u.B, u.A, u.Distance) ? 1 : 0;
            }
        }

        return changes;
    }

    private readonly record struct Update(int A, int B, float Distance);

    // n bounded heaps of k (key, index) pairs with a "new" flag per slot.
    private sealed class Heaps
    {
        public Heaps(int count, int k)
        {
            Count = count;
            K = k;
            Key = new float[count * k];
            Index = new int[count * k];
            IsNew = new bool[count * k];
            Clear();
        }

        public int Count { get; }

        public int K { get; }

        public float[] Key { get; }

        public int[] Index { get; }

        public bool[] IsNew { get; }

        public void Clear()
        {
            NeighbourHeap.Clear(Key, Index);
            Array.Clear(IsNew);
        }

        public float Farthest(int i) => Key[i * K];

        public bool Push(int i, int j, float key) => NeighbourHeap.TryPush(
            Key.AsSpan(i * K, K), Index.AsSpan(i * K, K), IsNew.AsSpan(i * K, K), key, j, flag: true);

        // Sorted rows with Euclidean distances (the keys are squared distances).
        public NeighbourGraph ToGraph()
        {
            float[] distances = new float[Count * K];
            int[] indices = new int[Count * K];
            for (int i = 0; i < Count; i++)
            {
                Span<float> dist = distances.AsSpan(i * K, K);
                Span<int> index = indices.AsSpan(i * K, K);
                Key.AsSpan(i * K, K).CopyTo(dist);
                Index.AsSpan(i * K, K).CopyTo(index);
                NeighbourHeap.SortAscending(dist, index);
                for (int s = 0; s < K; s++)
                {
                    dist[s] = MathF.Sqrt(dist[s]);
                }
            }

            return new NeighbourGraph(Count, K, indices, distances);
        }
    }
}
