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
/// <para>Points are stored in tree order, so the points of a cell are one contiguous range and
/// neighbouring points, which walk similar cells, are computed one after the other. Leaves hold
/// up to <see cref="LeafSize"/> points, summed directly.</para>
/// </remarks>
internal sealed class BarnesHutTree<TDims>
    where TDims : struct, ISpaceDims
{
    /// <summary>Most points in a leaf: direct sums over a handful of points are cheaper than
    /// more levels.</summary>
    public const int LeafSize = 8;

    // Depth at which a cell stops splitting even when it holds more points (duplicates).
    private const int MaxDepth = 48;

    // Tree positions per work item; fixed, so Z is summed in the same order on any thread count.
    private const int ChunkSize = 256;

    private static int L => TDims.Count;

    private static int Children => 1 << TDims.Count;

    private readonly int _n;
    private readonly int[] _order;
    private readonly double[] _sorted;
    private readonly int[] _scratch;
    private readonly List<Node> _nodes = [];
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
        int chunks = (_n + ChunkSize - 1) / ChunkSize;
        double[] partialZ = new double[chunks];
        double[] f = new double[_n * L];
        Parallel.For(0, chunks, parallel, chunk =>
        {
            double z = 0;
            int end = Math.Min(_n, (chunk + 1) * ChunkSize);
            for (int p = chunk * ChunkSize; p < end; p++)
            {
                z += PointRepulsion(p, theta2, f.AsSpan(_order[p] * L, L));
            }

            partialZ[chunk] = z;
        });
        f.CopyTo(force);
        double total = 0;
        foreach (double z in partialZ)
        {
            total += z;
        }

        return total;
    }

    // Walks the tree for the point at tree position p; returns z_p and writes F_p.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private double PointRepulsion(int p, double theta2, Span<double> force)
    {
        Node[] nodes = _nodeArray;
        double[] sorted = _sorted;
        double px = sorted[p * 3], py = sorted[p * 3 + 1], pz = sorted[p * 3 + 2];
        double fx = 0, fy = 0, fz = 0, z = 0;
        Span<int> stack = stackalloc int[MaxDepth * 8 + 8];
        int top = 0;
        stack[top++] = 0;
        while (top > 0)
        {
            ref readonly Node node = ref nodes[stack[--top]];
            double dx = px - node.X, dy = py - node.Y;
            double dz = L == 3 ? pz - node.Z : 0;
            double d2 = dx * dx + dy * dy + dz * dz;
            bool holdsP = (uint)(p - node.Start) < (uint)node.Count;
            if (!holdsP && node.Width2 < theta2 * d2)
            {
                double q = 1 / (1 + d2);
                double nq = node.Count * q;
                z += nq;
                nq *= q;
                fx += nq * dx;
                fy += nq * dy;
                fz += nq * dz;
            }
            else if (node.ChildCount == 0)
            {
                for (int o = node.Start; o < node.Start + node.Count; o++)
                {
                    if (o == p)
                    {
                        continue;
                    }

                    double ex = px - sorted[o * 3], ey = py - sorted[o * 3 + 1];
                    double ez = L == 3 ? pz - sorted[o * 3 + 2] : 0;
                    double q = 1 / (1 + ex * ex + ey * ey + ez * ez);
                    z += q;
                    q *= q;
                    fx += q * ex;
                    fy += q * ey;
                    fz += q * ez;
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

        force[0] = fx;
        force[1] = fy;
        if (L == 3)
        {
            force[2] = fz;
        }

        return z;
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
