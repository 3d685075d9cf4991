using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace Mmae.Kernels.Gpu;

// L_mm on squared distances without any p×p matrix: the linear-in-p Gram form of the CPU
// backend (Cpu/Distance.Gram.cs has the derivation).
// p = points, m = latent dim, l = reference dim, w = m + l; z: (p, m), e: (p, l).
// U = [z − μ_z | e − μ_e] (p, w) is never stored: kernels rebuild its entries from z, e and
// the column means μ (w). a_i = ||U_i,<m||², b_i = ||U_i,≥m||² (2p). Gram = UᵀU (w, w).
//   C = 2p·Σ a_i b_i + 2·S_a·S_b + 4·||EᵀZ||²_F,  Q = 2p·Σ a_i² + 2·S_a² + 4·||ZᵀZ||²_F,
//   R = 2p·Σ b_i² + 2·S_b² + 4·||EᵀE||²_F,        L = (2/p²)·(1 − C/√(QR)).
// Backward, with r = C/Q, s = −(2/p²)·dLoss/√(QR), K = [−8r·ZᵀZ ; 8·EᵀZ] (w, m),
// v = Σ_q (−4b_q + 4r·a_q)·U_q,<m (m):
//   dz_k = s·[(4(p·b_k + S_b) − 4r(p·a_k + S_a))·U_k,<m + v + U_k·K].
// Everything after the float inputs is float64, as on the CPU: near convergence 1 − C/√(QR)
// is a small difference of numbers near 1.
// Kernels: column means (row chunks of MeanRows, then chunks summed in order); row norms;
// Gram partials per (16×16 tile of Gram, row chunk) through shared memory, then chunks summed
// in order; one group folding every scalar sum at once (FoldRows); for the gradient, K, v (row
// chunks again) and a tiled U·K with the epilogue above. All sums have fixed order.
// Limitation: the Gram partials take chunks·w²·8 bytes of scratch (up to 64·w²: 40 MB at
// w = 286) and GramFinish folds w² + p terms in a single group, which suits the latent and
// reference widths of this model (tens) but not a raw-pixel reference (w ≈ 800); a symmetric
// half-Gram and a multi-group finish would lift both.
public sealed partial class GpuBackend
{
    private const int MeanRows = 1024;
    private const int MaxGramChunks = 64;

    private Action<AcceleratorStream, Index1D, ArrayView<float>, int, int, ArrayView<double>>
        _meanPartials = null!;
    private Action<
        AcceleratorStream,
        Index1D,
        ArrayView<double>,
        int,
        int,
        int,
        ArrayView<double>,
        int> _meanFinish = null!;
    private Action<AcceleratorStream, Index1D, GramArgs> _rowNorms = null!;
    private Action<AcceleratorStream, KernelConfig, GramArgs> _gramPartials = null!;
    private Action<AcceleratorStream, Index1D, GramArgs> _gramReduce = null!;
    private Action<AcceleratorStream, KernelConfig, GramArgs> _gramFinish = null!;
    private Action<AcceleratorStream, Index1D, GramArgs> _gramWeights = null!;
    private Action<AcceleratorStream, Index1D, GramArgs> _gramVPartials = null!;
    private Action<AcceleratorStream, Index1D, GramArgs> _gramVFinish = null!;
    private Action<AcceleratorStream, KernelConfig, GramArgs> _gramGradient = null!;

    // The last MatchLossForward's inputs and device terms, for its backward to reuse.
    private ForwardTerms<GramArgs>? _lastGram;

    /// <inheritdoc/>
    public void MatchLossForward(DeviceBuffer z, DeviceBuffer e, int p, int m, int l, DeviceBuffer loss)
    {
        _lastGram = new(z, e, p, m, l, GramLoss(z, e, p, m, l, V(loss)));
    }

    /// <inheritdoc/>
    public void MatchLossBackward(
        DeviceBuffer z,
        DeviceBuffer e,
        int p,
        int m,
        int l,
        DeviceBuffer dLoss,
        DeviceBuffer dz)
    {
        // The forward pass just before, on these same buffers, left every Gram term in scratch
        // memory (IBackend's contract says z and e did not change in between); any other
        // Gram forward since would have replaced _lastGram.
        GramArgs args = _lastGram is { } last && last.Matches(z, e, p, m, l)
            ? last.Args
            : GramLoss(z, e, p, m, l, Scratch("gram-loss", 1).Cast<float>());
        _lastGram = null;
        args.DLoss = V(dLoss);
        args.Dz = V(dz);
        args.K = Scratch("gram-k", (long)(m + l) * m);
        args.VPartials = Scratch("gram-v-partials", (long)Ceil(p, MeanRows) * m);
        args.VSum = Scratch("gram-v", m);
        Launch((m + l) * m, _gramWeights, args);
        Launch(Ceil(p, MeanRows) * m, _gramVPartials, args);
        Launch(m, _gramVFinish, args);
        _gramGradient(_stream, Groups(Ceil(m, Tile), Ceil(p, Tile)), args);
    }

    /// <summary>Queues the Gram terms, then C, Q, R and the loss into <paramref name="loss"/>.
    /// </summary>
    private GramArgs GramLoss(
        DeviceBuffer z,
        DeviceBuffer e,
        int p,
        int m,
        int l,
        ArrayView<float> loss)
    {
        GramArgs args = GramTerms(z, e, p, m, l);
        args.Loss = loss;
        _gramFinish(_stream, Groups(1), args);
        return args;
    }

    /// <summary>Queues the means, row norms and Gram matrix shared by forward and backward.
    /// </summary>
    private GramArgs GramTerms(DeviceBuffer z, DeviceBuffer e, int p, int m, int l)
    {
        int w = m + l;
        int rowsPerChunk = Math.Max(256, Ceil(Ceil(p, MaxGramChunks), Tile) * Tile);
        int chunks = Ceil(p, rowsPerChunk);
        var args = new GramArgs
        {
            Z = V(z), E = V(e), P = p, M = m, L = l, RowsPerChunk = rowsPerChunk,
            Chunks = chunks,
            Means = Scratch("gram-means", w),
            AB = Scratch("gram-ab", 2L * p),
            Partials = Scratch("gram-partials", (long)chunks * w * w),
            Gram = Scratch("gram", (long)w * w),
            Terms = Scratch("gram-terms", 8),
        };
        ColumnMeans(V(z), p, m, args.Means, 0);
        ColumnMeans(V(e), p, l, args.Means, m);
        Launch(p, _rowNorms, args);
        int tiles = Ceil(w, Tile);
        _gramPartials(_stream, Groups(tiles, tiles, chunks), args);
        Launch(w * w, _gramReduce, args);
        return args;
    }

    /// <summary>means[offset + c] = (1/rows)·Σ_i x[i, c] in float64, in a fixed order.</summary>
    private void ColumnMeans(ArrayView<float> x, int rows, int cols, ArrayView<double> means, int offset)
    {
        int chunks = Ceil(rows, MeanRows);
        ArrayView<double> partials = Scratch("mean-partials", (long)chunks * cols);
        Launch(chunks * cols, _meanPartials, x, rows, cols, partials);
        Launch(cols, _meanFinish, partials, chunks, rows, cols, means, offset);
    }

    private void Launch<T1, T2, T3, T4, T5, T6>(
        int n,
        Action<AcceleratorStream, Index1D, T1, T2, T3, T4, T5, T6> kernel,
        T1 a1,
        T2 a2,
        T3 a3,
        T4 a4,
        T5 a5,
        T6 a6)
        where T1 : struct
        where T2 : struct
        where T3 : struct
        where T4 : struct
        where T5 : struct
        where T6 : struct
    {
        if (n > 0)
        {
            kernel(_stream, n, a1, a2, a3, a4, a5, a6);
        }
    }

    private static GpuKernel[] GramKernels =>
    [
        Define(MeanPartialsKernel, static b => ref b._meanPartials),
        Define(MeanFinishKernel, static b => ref b._meanFinish),
        Define(RowNormsKernel, static b => ref b._rowNorms),
        Define(GramPartialsKernel, static b => ref b._gramPartials),
        Define(GramReduceKernel, static b => ref b._gramReduce),
        Define(GramFinishKernel, static b => ref b._gramFinish),
        Define(GramWeightsKernel, static b => ref b._gramWeights),
        Define(GramVPartialsKernel, static b => ref b._gramVPartials),
        Define(GramVFinishKernel, static b => ref b._gramVFinish),
        Define(GramGradientKernel, static b => ref b._gramGradient),
    ];

    /// <summary>Every view and size the Gram kernels share, passed as one value.</summary>
    internal struct GramArgs
    {
        public ArrayView<float> Z, E, Loss, DLoss, Dz;
        public ArrayView<double> Means, AB, Partials, Gram, Terms, K, VPartials, VSum;
        public int P, M, L, RowsPerChunk, Chunks;
    }

    // U[r, c]: the centred latent coordinate for c < m, else the centred reference one.
    private static double U(GramArgs a, int r, int c) => c < a.M
        ? a.Z[r * a.M + c] - a.Means[c]
        : a.E[r * a.L + c - a.M] - a.Means[c];

    // partials[chunk·cols + c] = Σ_{rows of chunk} x[i, c]
    internal static void MeanPartialsKernel(
        Index1D idx,
        ArrayView<float> x,
        int rows,
        int cols,
        ArrayView<double> partials)
    {
        int chunk = idx / cols, c = idx % cols;
        int end = XMath.Min(rows, (chunk + 1) * MeanRows);
        double sum = 0;
        for (int i = chunk * MeanRows; i < end; i++)
        {
            sum += x[i * cols + c];
        }

        partials[idx] = sum;
    }

    internal static void MeanFinishKernel(
        Index1D c,
        ArrayView<double> partials,
        int chunks,
        int rows,
        int cols,
        ArrayView<double> means,
        int offset)
    {
        double sum = 0;
        for (int chunk = 0; chunk < chunks; chunk++)
        {
            sum += partials[chunk * cols + c];
        }

        means[offset + c] = sum / rows;
    }

    // a_i = ||U_i,<m||², b_i = ||U_i,≥m||²
    internal static void RowNormsKernel(Index1D i, GramArgs a)
    {
        double sa = 0, sb = 0;
        for (int c = 0; c < a.M; c++)
        {
            double u = U(a, i, c);
            sa += u * u;
        }

        for (int c = a.M; c < a.M + a.L; c++)
        {
            double u = U(a, i, c);
            sb += u * u;
        }

        a.AB[i] = sa;
        a.AB[a.P + i] = sb;
    }

    // partials[chunk, gi, gj] = Σ_{r in chunk} U[r, gi]·U[r, gj] for one 16×16 tile of Gram:
    // 16 rows of both column strips are staged in shared memory per step.
    internal static void GramPartialsKernel(GramArgs a)
    {
        var si = SharedMemory.Allocate<double>(GroupSize);
        var sj = SharedMemory.Allocate<double>(GroupSize);
        int t = Group.IdxX, tx = t % Tile, ty = t / Tile;
        int w = a.M + a.L;
        int ci = Grid.IdxX * Tile, cj = Grid.IdxY * Tile;
        int r0 = Grid.IdxZ * a.RowsPerChunk;
        int r1 = XMath.Min(a.P, r0 + a.RowsPerChunk);
        double acc = 0;
        for (int rr = r0; rr < r1; rr += Tile)
        {
            int r = rr + ty;
            si[t] = r < r1 && ci + tx < w ? U(a, r, ci + tx) : 0.0;
            sj[t] = r < r1 && cj + tx < w ? U(a, r, cj + tx) : 0.0;
            Group.Barrier();
            for (int q = 0; q < Tile; q++)
            {
                acc += si[q * Tile + ty] * sj[q * Tile + tx];
            }

            Group.Barrier();
        }

        int gi = ci + ty, gj = cj + tx;
        if (gi < w && gj < w)
        {
            a.Partials[(long)Grid.IdxZ * w * w + gi * w + gj] = acc;
        }
    }

    internal static void GramReduceKernel(Index1D ij, GramArgs a)
    {
        int w = a.M + a.L;
        double sum = 0;
        for (int chunk = 0; chunk < a.Chunks; chunk++)
        {
            sum += a.Partials[(long)chunk * w * w + ij];
        }

        a.Gram[ij] = sum;
    }

    // One group: the scalar sums over p and over Gram, then C, Q, R and the loss.
    // Terms = [C, Q, R, S_a, S_b].
    internal static void GramFinishKernel(GramArgs a)
    {
        var shared = SharedMemory.Allocate<double>(8 * GroupSize);
        int t = Group.IdxX, p = a.P, m = a.M, w = a.M + a.L;
        double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
        for (int i = t; i < p; i += GroupSize)
        {
            double ai = a.AB[i], bi = a.AB[p + i];
            sa += ai;
            sb += bi;
            saa += ai * ai;
            sbb += bi * bi;
            sab += ai * bi;
        }

        double zz = 0, ez = 0, ee = 0;
        for (int ij = t; ij < w * w; ij += GroupSize)
        {
            int i = ij / w, j = ij % w;
            double g2 = a.Gram[ij] * a.Gram[ij];
            if (i < m && j < m)
            {
                zz += g2;
            }
            else if (i >= m && j >= m)
            {
                ee += g2;
            }
            else
            {
                ez += g2;
            }
        }

        shared[t] = sa;
        shared[GroupSize + t] = sb;
        shared[2 * GroupSize + t] = saa;
        shared[3 * GroupSize + t] = sbb;
        shared[4 * GroupSize + t] = sab;
        shared[5 * GroupSize + t] = zz;
        shared[6 * GroupSize + t] = ez;
        shared[7 * GroupSize + t] = ee;
        FoldRows(shared, 8);
        if (t == 0)
        {
            sa = shared[0];
            sb = shared[GroupSize];
            saa = shared[2 * GroupSize];
            sbb = shared[3 * GroupSize];
            sab = shared[4 * GroupSize];
            zz = shared[5 * GroupSize];
            ez = shared[6 * GroupSize];
            ee = shared[7 * GroupSize];

            // ez counted both EᵀZ and ZᵀE: halve it for ||EᵀZ||²_F.
            double c = 2.0 * p * sab + 2.0 * sa * sb + 2.0 * ez;
            double q = 2.0 * p * saa + 2.0 * sa * sa + 4.0 * zz;
            double r = 2.0 * p * sbb + 2.0 * sb * sb + 4.0 * ee;
            a.Terms[0] = c;
            a.Terms[1] = q;
            a.Terms[2] = r;
            a.Terms[3] = sa;
            a.Terms[4] = sb;
            double p2 = (double)p * p;
            double loss = q <= 0 || r <= 0
                ? ((q > 0 ? 1.0 : 0.0) + (r > 0 ? 1.0 : 0.0)) / p2
                : 2.0 / p2 * (1.0 - c / XMath.Sqrt(q * r));
            a.Loss[0] = (float)loss;
        }
    }

    private static double Ratio(GramArgs a) => a.Terms[1] > 0 ? a.Terms[0] / a.Terms[1] : 0.0;

    // K[i, j] = (i < m ? −8r : 8)·Gram[i, j] for j < m.
    internal static void GramWeightsKernel(Index1D ij, GramArgs a)
    {
        int i = ij / a.M, j = ij % a.M;
        double f = i < a.M ? -8.0 * Ratio(a) : 8.0;
        a.K[ij] = f * a.Gram[i * (a.M + a.L) + j];
    }

    // VPartials[chunk·m + k] = Σ_{q in chunk} (−4b_q + 4r·a_q)·U[q, k]
    internal static void GramVPartialsKernel(Index1D idx, GramArgs a)
    {
        int chunk = idx / a.M, k = idx % a.M;
        int end = XMath.Min(a.P, (chunk + 1) * MeanRows);
        double r = Ratio(a);
        double sum = 0;
        for (int q = chunk * MeanRows; q < end; q++)
        {
            sum += (-4.0 * a.AB[a.P + q] + 4.0 * r * a.AB[q]) * U(a, q, k);
        }

        a.VPartials[idx] = sum;
    }

    internal static void GramVFinishKernel(Index1D k, GramArgs a)
    {
        int chunks = (a.P + MeanRows - 1) / MeanRows;
        double sum = 0;
        for (int chunk = 0; chunk < chunks; chunk++)
        {
            sum += a.VPartials[chunk * a.M + k];
        }

        a.VSum[k] = sum;
    }

    // dz for one 16×16 tile (rows i, latent columns k): U_i·K through shared memory, then the
    // epilogue of the header. dLoss is read here, on the device.
    internal static void GramGradientKernel(GramArgs a)
    {
        var su = SharedMemory.Allocate<double>(GroupSize);
        var sk = SharedMemory.Allocate<double>(GroupSize);
        int t = Group.IdxX, tx = t % Tile, ty = t / Tile;
        int w = a.M + a.L, m = a.M, p = a.P;
        int i = Grid.IdxY * Tile + ty, k = Grid.IdxX * Tile + tx;
        double acc = 0;
        for (int c0 = 0; c0 < w; c0 += Tile)
        {
            su[t] = i < p && c0 + tx < w ? U(a, i, c0 + tx) : 0.0;
            int kc = Grid.IdxX * Tile + tx;
            sk[t] = c0 + ty < w && kc < m ? a.K[(c0 + ty) * m + kc] : 0.0;
            Group.Barrier();
            for (int q = 0; q < Tile; q++)
            {
                acc += su[ty * Tile + q] * sk[q * Tile + tx];
            }

            Group.Barrier();
        }

        if (i >= p || k >= m)
        {
            return;
        }

        double cc = a.Terms[0], qq = a.Terms[1], rr = a.Terms[2];
        if (qq <= 0 || rr <= 0)
        {
            // The loss is constant in z there: the gradient is zero.
            a.Dz[i * m + k] = 0f;
            return;
        }

        double r = cc / qq;
        double s = -2.0 * a.DLoss[0] / ((double)p * p) / XMath.Sqrt(qq * rr);
        double c1 = 4.0 * (p * a.AB[p + i] + a.Terms[4]) - 4.0 * r * (p * a.AB[i] + a.Terms[3]);
        a.Dz[i * m + k] = (float)(s * (c1 * U(a, i, k) + a.VSum[k] + acc));
    }
}
