using System.Numerics;
using System.Runtime.CompilerServices;

namespace Mmae.Train.Embeddings;

/// <summary>Compile-time embedding dimension of the Barnes-Hut tree: a struct type argument,
/// so the JIT drops the third coordinate from the 2-D code.</summary>
internal interface ISpaceDims
{
    static abstract int Count { get; }
}

internal readonly struct Plane : ISpaceDims
{
    public static int Count => 2;
}

internal readonly struct Space : ISpaceDims
{
    public static int Count => 3;
}

/// <summary>
/// A quadtree (2-D) or octree (3-D) over the embedding, and the t-SNE repulsive forces it
/// approximates (Barnes-Hut, van der Maaten 2014).
/// </summary>
/// <remarks>
/// <para>n = points, L = 2 or 3; y: (n, L) row-major. For point i the repulsion is
/// F_i = Σ_j q_ij² (y_i − y_j) and the normaliser share z_i = Σ_j q_ij with
/// q_ij = 1 / (1 + |y_i − y_j|²). A cell of side w whose centre of mass c is at distance
/// r from y_i with w &lt; θ r stands in for all its N points: z_i += N q, F_i += N q² (y_i − c).
/// θ = 0 gives the exact sums.</para>
/// <para>Points are stored in tree order, so the points of a cell are one contiguous range.
/// Leaves hold up to <see cref="LeafSize"/> points. The tree is walked once per leaf, not once
/// per point: θ is tested from the nearest point of the leaf's bounding box, so a summary that
/// passes serves every point of the leaf; the bodies found are then summed for each point in an
/// 8-wide float SIMD loop (float: relative error about 1e-6, far below θ's). This does a few
/// more interactions than a walk per point but spends far less time walking.</para>
/// </remarks>
internal sealed class BarnesHutTree<TDims>
    where TDims : struct, ISpaceDims
{
    /// <summary>Most points in a leaf. The walk per leaf is the cost (the SIMD sums are
    /// cheap), so leaves are large: on the 10,000 digits 32 takes about 40% less time than 8,
    /// for about 450 instead of 200 interactions per point.</summary>
    public const int LeafSize = 32;

    // Depth at which a cell stops splitting even when it holds more points (duplicates).
    private const int MaxDepth = 48;

    // Leaves per work item; fixed, so Z is summed in the same order on any thread count.
    private const int LeavesPerChunk = 16;

    private static int L => TDims.Count;

    private static int Children => 1 << TDims.Count;

    private readonly int _n;
    private readonly int[] _order;
    private readonly double[] _sorted;
    private readonly int[] _scratch;
    private readonly List<Node> _nodes = [];
    private readonly List<int> _leaves = [];
    private Node[] _nodeArray = [];

    public BarnesHutTree(int n)
    {
        _n = n;
        _order = new int[n];
        _sorted = new double[n * 3];
        _scratch = new int[n];
    }

    /// <summary>Builds the tree over y (n × L, row-major).</summary>
    public void Build(ReadOnlySpan<double> y)
    {
        Span<double> low = stackalloc double[3];
        Span<double> high = stackalloc double[3];
        low.Fill(double.PositiveInfinity);
        high.Fill(double.NegativeInfinity);
        for (int i = 0; i < _n; i++)
        {
            _order[i] = i;
            for (int c = 0; c < L; c++)
            {
                low[c] = Math.Min(low[c], y[i * L + c]);
                high[c] = Math.Max(high[c], y[i * L + c]);
            }
        }

        double half = 0;
        Span<double> centre = stackalloc double[3];
        for (int c = 0; c < L; c++)
        {
            centre[c] = 0.5 * (low[c] + high[c]);
            half = Math.Max(half, 0.5 * (high[c] - low[c]));
        }

        // A little slack keeps the extreme points strictly inside the root cell.
        half = half * (1 + 1e-6) + 1e-12;
        _nodes.Clear();
        _nodes.Add(default);
        var pending = new Stack<(int Node, int Start, int Count, double X, double Y, double Z,
            double Half, int Depth)>();
        pending.Push((0, 0, _n, centre[0], centre[1], centre[2], half, 0));
        Span<int> counts = stackalloc int[8];
        while (pending.Count > 0)
        {
            var cell = pending.Pop();
            var node = new Node { Start = cell.Start, Count = cell.Count, Width2 = 4 * cell.Half * cell.Half };
            if (cell.Count > LeafSize && cell.Depth < MaxDepth)
            {
                Partition(y, cell.Start, cell.Count, cell.X, cell.Y, cell.Z, counts);
                node.FirstChild = _nodes.Count;
                int start = cell.Start;
                double h = 0.5 * cell.Half;
                for (int code = 0; code < Children; code++)
                {
                    if (counts[code] == 0)
                    {
                        continue;
                    }

                    int child = _nodes.Count;
                    _nodes.Add(default);
                    node.ChildCount++;
                    pending.Push((child, start, counts[code],
                        cell.X + ((code & 1) != 0 ? h : -h),
                        cell.Y + ((code & 2) != 0 ? h : -h),
                        cell.Z + ((code & 4) != 0 ? h : -h),
                        h, cell.Depth + 1));
                    start += counts[code];
                }
            }

            _nodes[cell.Node] = node;
        }

        for (int p = 0; p < _n; p++)
        {
            int i = _order[p];
            for (int c = 0; c < 3; c++)
            {
                _sorted[p * 3 + c] = c < L ? y[i * L + c] : 0;
            }
        }

        _nodeArray = [.. _nodes];
        _leaves.Clear();
        for (int id = 0; id < _nodeArray.Length; id++)
        {
            if (_nodeArray[id].ChildCount == 0)
            {
                _leaves.Add(id);
            }
        }

        // Tree order, so a chunk of leaves is a patch of neighbouring points.
        _leaves.Sort((a, b) => _nodeArray[a].Start.CompareTo(_nodeArray[b].Start));
        for (int id = 0; id < _nodeArray.Length; id++)
        {
            ref Node node = ref _nodeArray[id];
            double sx = 0, sy = 0, sz = 0;
            for (int p = node.Start; p < node.Start + node.Count; p++)
            {
                sx += _sorted[p * 3];
                sy += _sorted[p * 3 + 1];
                sz += _sorted[p * 3 + 2];
            }

            node.X = sx / node.Count;
            node.Y = sy / node.Count;
            node.Z = sz / node.Count;
        }
    }

    /// <summary>Repulsion F (n × L, row-major, original point order) and Σ_i z_i.</summary>
    public double Repulsion(double theta, Span<double> force, ParallelOptions parallel)
    {
        double theta2 = theta * theta;
        int chunks = (_leaves.Count + LeavesPerChunk - 1) / LeavesPerChunk;
        double[] partialZ = new double[chunks];
        double[] f = new double[_n * L];
        Parallel.For(0, chunks, parallel, () => new InteractionList(), (chunk, _, list) =>
        {
            double z = 0;
            int end = Math.Min(_leaves.Count, (chunk + 1) * LeavesPerChunk);
            for (int leaf = chunk * LeavesPerChunk; leaf < end; leaf++)
            {
                z += LeafRepulsion(_leaves[leaf], theta2, list, f);
            }

            partialZ[chunk] = z;
            return list;
        }, _ => { });
        f.CopyTo(force);
        double total = 0;
        foreach (double z in partialZ)
        {
            total += z;
        }

        return total;
    }

    // One walk for all points of a leaf: a cell is summarised when θ holds from the nearest
    // point of the leaf's bounding box, so it holds for every point in it; otherwise it is
    // opened, and an opened leaf contributes its points. The bodies collected (summaries with
    // their counts, single points with 1) are then summed for each point of the leaf with SIMD.
    // The leaf's own points are summed directly, skipping each point itself. Returns Σ z_p.
    private double LeafRepulsion(int leafId, double theta2, InteractionList list, double[] force)
    {
        Node[] nodes = _nodeArray;
        double[] sorted = _sorted;
        ref readonly Node leaf = ref nodes[leafId];
        Span<double> low = stackalloc double[3];
        Span<double> high = stackalloc double[3];
        low.Fill(double.PositiveInfinity);
        high.Fill(double.NegativeInfinity);
        for (int p = leaf.Start; p < leaf.Start + leaf.Count; p++)
        {
            for (int c = 0; c < 3; c++)
            {
                low[c] = Math.Min(low[c], sorted[p * 3 + c]);
                high[c] = Math.Max(high[c], sorted[p * 3 + c]);
            }
        }

        list.Clear(0.5 * (low[0] + high[0]), 0.5 * (low[1] + high[1]), 0.5 * (low[2] + high[2]));
        Span<int> stack = stackalloc int[MaxDepth * 8 + 8];
        int top = 0;
        stack[top++] = 0;
        while (top > 0)
        {
            int id = stack[--top];
            if (id == leafId)
            {
                continue;
            }

            ref readonly Node node = ref nodes[id];
            bool holdsLeaf = (uint)(leaf.Start - node.Start) < (uint)node.Count;
            double dx = Gap(node.X, low[0], high[0]), dy = Gap(node.Y, low[1], high[1]);
            double dz = L == 3 ? Gap(node.Z, low[2], high[2]) : 0;
            if (!holdsLeaf && node.Width2 < theta2 * (dx * dx + dy * dy + dz * dz))
            {
                list.Add(node.X, node.Y, node.Z, node.Count);
            }
            else if (node.ChildCount == 0)
            {
                for (int o = node.Start; o < node.Start + node.Count; o++)
                {
                    list.Add(sorted[o * 3], sorted[o * 3 + 1], sorted[o * 3 + 2], 1);
                }
            }
            else
            {
                for (int c = 0; c < node.ChildCount; c++)
                {
                    stack[top++] = node.FirstChild + c;
                }
            }
        }

        double zLeaf = 0;
        Span<double> sum = stackalloc double[4];
        for (int p = leaf.Start; p < leaf.Start + leaf.Count; p++)
        {
            list.Sum(sorted[p * 3], sorted[p * 3 + 1], sorted[p * 3 + 2], sum);
            for (int o = leaf.Start; o < leaf.Start + leaf.Count; o++)
            {
                if (o != p)
                {
                    AddBody(sorted, p, sorted[o * 3], sorted[o * 3 + 1], sorted[o * 3 + 2], 1, sum);
                }
            }

            int i = _order[p];
            force[i * L] = sum[1];
            force[i * L + 1] = sum[2];
            if (L == 3)
            {
                force[i * L + 2] = sum[3];
            }

            zLeaf += sum[0];
        }

        return zLeaf;
    }

    // Distance along one axis from c to the interval [low, high] (0 inside).
    private static double Gap(double c, double low, double high) =>
        c < low ? low - c : c > high ? c - high : 0;

    // sum += (m q, m q² dx, m q² dy, m q² dz) for a body of mass m at (x, y, z).
    private static void AddBody(double[] sorted, int p, double x, double y, double z, double m,
        Span<double> sum)
    {
        double dx = sorted[p * 3] - x, dy = sorted[p * 3 + 1] - y;
        double dz = L == 3 ? sorted[p * 3 + 2] - z : 0;
        double q = 1 / (1 + dx * dx + dy * dy + dz * dz);
        double mq = m * q;
        sum[0] += mq;
        mq *= q;
        sum[1] += mq * dx;
        sum[2] += mq * dy;
        sum[3] += mq * dz;
    }

    // Counting sort of tree positions [start, start + count) by child cell (one bit per axis:
    // coordinate ≥ centre); counts[code] receives each child's size.
    private void Partition(ReadOnlySpan<double> y, int start, int count, double cx, double cy,
        double cz, Span<int> counts)
    {
        counts.Clear();
        for (int p = start; p < start + count; p++)
        {
            counts[Code(y, _order[p], cx, cy, cz)]++;
        }

        Span<int> next = stackalloc int[8];
        int offset = start;
        for (int code = 0; code < 8; code++)
        {
            next[code] = offset;
            offset += counts[code];
        }

        for (int p = start; p < start + count; p++)
        {
            int i = _order[p];
            _scratch[next[Code(y, i, cx, cy, cz)]++] = i;
        }

        _scratch.AsSpan(start, count).CopyTo(_order.AsSpan(start, count));
    }

    private static int Code(ReadOnlySpan<double> y, int i, double cx, double cy, double cz)
    {
        int code = (y[i * L] >= cx ? 1 : 0) | (y[i * L + 1] >= cy ? 2 : 0);
        return L == 3 && y[i * L + 2] >= cz ? code | 4 : code;
    }

    // The bodies one leaf interacts with, as separate float arrays for 8-wide SIMD loads.
    // Coordinates are stored relative to an origin inside the leaf, so the float differences
    // to the leaf's points keep their precision where the forces are largest.
    private sealed class InteractionList
    {
        private float[] _x = new float[256];
        private float[] _y = new float[256];
        private float[] _z = new float[256];
        private float[] _m = new float[256];
        private int _count;
        private double _ox, _oy, _oz;

        public void Clear(double ox, double oy, double oz)
        {
            _count = 0;
            (_ox, _oy, _oz) = (ox, oy, oz);
        }

        public void Add(double x, double y, double z, double m)
        {
            if (_count + Vector<float>.Count >= _x.Length)
            {
                Array.Resize(ref _x, 2 * _x.Length);
                Array.Resize(ref _y, 2 * _y.Length);
                Array.Resize(ref _z, 2 * _z.Length);
                Array.Resize(ref _m, 2 * _m.Length);
            }

            _x[_count] = (float)(x - _ox);
            _y[_count] = (float)(y - _oy);
            _z[_count] = (float)(z - _oz);
            _m[_count] = (float)m;
            _count++;
        }

        // sum = (Σ m q, Σ m q² dx, Σ m q² dy, Σ m q² dz) over the bodies, q = 1 / (1 + |d|²),
        // d = (px, py, pz) − body. The list is padded to whole vectors with massless bodies.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Sum(double px, double py, double pz, Span<double> sum)
        {
            int w = Vector<float>.Count;
            int padded = (_count + w - 1) / w * w;
            _m.AsSpan(_count, padded - _count).Clear();
            var vx = new Vector<float>((float)(px - _ox));
            var vy = new Vector<float>((float)(py - _oy));
            var vz = new Vector<float>((float)(pz - _oz));
            Vector<float> z = Vector<float>.Zero, fx = z, fy = z, fz = z;
            for (int b = 0; b < padded; b += w)
            {
                Vector<float> dx = vx - new Vector<float>(_x.AsSpan(b, w));
                Vector<float> dy = vy - new Vector<float>(_y.AsSpan(b, w));
                Vector<float> d2 = Vector<float>.One + dx * dx + dy * dy;
                Vector<float> dz = Vector<float>.Zero;
                if (L == 3)
                {
                    dz = vz - new Vector<float>(_z.AsSpan(b, w));
                    d2 += dz * dz;
                }

                Vector<float> q = Vector<float>.One / d2;
                Vector<float> mq = new Vector<float>(_m.AsSpan(b, w)) * q;
                z += mq;
                mq *= q;
                fx += mq * dx;
                fy += mq * dy;
                fz += mq * dz;
            }

            sum[0] = Vector.Sum(z);
            sum[1] = Vector.Sum(fx);
            sum[2] = Vector.Sum(fy);
            sum[3] = Vector.Sum(fz);
        }
    }

    private struct Node
    {
        public double X, Y, Z;      // centre of mass
        public double Width2;       // side² of the cell
        public int Count;
        public int Start;           // first tree position of the cell's points
        public int FirstChild;
        public int ChildCount;      // 0 for a leaf
    }
}
