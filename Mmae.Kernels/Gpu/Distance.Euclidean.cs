using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace Mmae.Kernels.Gpu;

// L_mm on plain distances, fused and tiled: only 16×16 tiles ever sit in shared memory, never
// a p×p matrix (the CPU twin, Cpu/Distance.Euclidean.cs, has the derivation).
// p = points, m = latent dim, l = reference dim; z, zc, dz: (p, m); e, ec: (p, l);
// dz_ij = ||zc_i − zc_j||, de_ij = ||ec_i − ec_j|| on batch-centred rows;
// S_zz = Σ dz², S_ee = Σ de², S_ze = Σ dz·de over ordered pairs;
// L = (2/p²)(1 − S_ze/√(S_zz·S_ee)).
// Backward: α = −(2/p²)·dLoss/(N_E·N_Z), β = (2/p²)·dLoss·S_ze/(N_E·N_Z³) with N = √S, and
//   dz_i = 2α·Σ_j (de_ij/dz_ij)(zc_i − zc_j) + 2β·p·zc_i   (pairs with dz_ij = 0 skipped).
// Pass kernel: one group per 16-row tile i0 walks every 16-column tile j0. Per step the group
// stages 16 coordinates of both row strips in shared memory and thread (ty, tx) accumulates
// the squared distance of pair (i0 + ty, j0 + tx); the same for e. For the gradient the pair
// weights de/dz go to a 16×16 shared tile, and thread (ty, tx) adds the weighted differences
// for row i0 + ty, coordinates tx, tx + 16, ... into a float64 buffer only it writes; the
// forward does this too, so its backward needs only the small gradient kernel. The three
// sums fold per group in a fixed order (FoldRows), then one group folds the groups.
// O(p²·(m + l)) time, O(p·(m + l)) memory, deterministic.
// Limitation: one group per 16-row tile means p/16 groups, so a batch of 256 keeps only 16
// multiprocessors busy; splitting each row tile's j range over several groups, with their
// weighted sums folded afterwards in a fixed order, would fill a large GPU.
public sealed partial class GpuBackend
{
    private Action<
        AcceleratorStream,
        Index1D,
        ArrayView<float>,
        ArrayView<double>,
        int,
        int,
        ArrayView<float>> _centre = null!;
    private Action<AcceleratorStream, KernelConfig, EuclideanArgs> _euclideanPass = null!;
    private Action<AcceleratorStream, KernelConfig, EuclideanArgs> _euclideanFinish = null!;
    private Action<AcceleratorStream, Index1D, EuclideanArgs> _euclideanGradient = null!;

    // The last EuclideanMatchLossForward's inputs and device terms, for its backward to reuse.
    private ForwardTerms<EuclideanArgs>? _lastEuclidean;

    /// <inheritdoc/>
    public void EuclideanMatchLossForward(
        DeviceBuffer z,
        DeviceBuffer e,
        int p,
        int m,
        int l,
        DeviceBuffer loss)
    {
        // The pass also accumulates the weighted differences the gradient needs, so the
        // backward that follows in training costs one small kernel instead of a second
        // O(p²·(m + l)) pass; a forward-only evaluation pays that extra accumulation.
        _lastEuclidean = new(z, e, p, m, l, EuclideanLoss(z, e, p, m, l, V(loss)));
    }

    /// <inheritdoc/>
    public void EuclideanMatchLossBackward(
        DeviceBuffer z,
        DeviceBuffer e,
        int p,
        int m,
        int l,
        DeviceBuffer dLoss,
        DeviceBuffer dz)
    {
        // Reuse the preceding forward's sums and weighted differences when it saw these same
        // buffers (IBackend's contract: z and e did not change in between).
        EuclideanArgs args = _lastEuclidean is { } last && last.Matches(z, e, p, m, l)
            ? last.Args
            : EuclideanLoss(z, e, p, m, l, Scratch("euclidean-loss", 1).Cast<float>());
        _lastEuclidean = null;
        args.DLoss = V(dLoss);
        args.Dz = V(dz);
        Launch(p * m, _euclideanGradient, args);
    }

    /// <summary>Queues the pass, then the sums and the loss into <paramref name="loss"/>.
    /// </summary>
    private EuclideanArgs EuclideanLoss(
        DeviceBuffer z,
        DeviceBuffer e,
        int p,
        int m,
        int l,
        ArrayView<float> loss)
    {
        EuclideanArgs args = EuclideanPass(z, e, p, m, l);
        args.Loss = loss;
        _euclideanFinish(_stream, Groups(1), args);
        return args;
    }

    /// <summary>Queues the centring and the pass: per-tile sums and the weighted differences.
    /// </summary>
    private EuclideanArgs EuclideanPass(DeviceBuffer z, DeviceBuffer e, int p, int m, int l)
    {
        ArrayView<double> means = Scratch("euclidean-means", m + l);
        ArrayView<float> zc = Scratch("euclidean-zc", ((long)p * m + 1) / 2).Cast<float>();
        ArrayView<float> ec = Scratch("euclidean-ec", ((long)p * l + 1) / 2).Cast<float>();
        ColumnMeans(V(z), p, m, means, 0);
        ColumnMeans(V(e), p, l, means, m);
        Launch(p * m, _centre, V(z), means, 0, m, zc);
        Launch(p * l, _centre, V(e), means, m, l, ec);
        int tiles = Ceil(p, Tile);
        var args = new EuclideanArgs
        {
            Zc = zc, Ec = ec, P = p, M = m, L = l,
            Partials = Scratch("euclidean-partials", 3L * tiles),
            Sums = Scratch("euclidean-sums", 3),
            Weighted = Scratch("euclidean-weighted", (long)p * m),
        };
        _euclideanPass(_stream, Groups(tiles), args);
        return args;
    }

    private static GpuKernel[] EuclideanKernels =>
    [
        Define(CentreKernel, static b => ref b._centre),
        Define(EuclideanPassKernel, static b => ref b._euclideanPass),
        Define(EuclideanFinishKernel, static b => ref b._euclideanFinish),
        Define(EuclideanGradientKernel, static b => ref b._euclideanGradient),
    ];

    /// <summary>Every view and size the plain-distance kernels share, passed as one value.
    /// </summary>
    internal struct EuclideanArgs
    {
        public ArrayView<float> Zc, Ec, Loss, DLoss, Dz;
        public ArrayView<double> Partials, Sums, Weighted;
        public int P, M, L;
    }

    // dst[i, c] = x[i, c] − means[offset + c], rounded to float.
    internal static void CentreKernel(
        Index1D idx,
        ArrayView<float> x,
        ArrayView<double> means,
        int offset,
        int cols,
        ArrayView<float> dst) =>
        dst[idx] = (float)(x[idx] - means[offset + idx % cols]);

    // The squared distances of this thread's pair (i0 + ty, j0 + tx) in z and in e, staged 16
    // coordinates of both at a time in stage = [z rows i | z rows j | e rows i | e rows j], so
    // a tile costs two barriers per 16 coordinates whatever m and l. Every thread of the group
    // must call it (it holds barriers); rows past p and coordinates past m or l read as 0.
    private static (float Z, float E) TileSquaredDistances(
        EuclideanArgs a,
        int i0,
        int j0,
        ArrayView<float> stage)
    {
        int t = Group.IdxX, tx = t % Tile, ty = t / Tile;
        int p = a.P, m = a.M, l = a.L;
        int ri = i0 + ty, rj = j0 + ty;
        float z2 = 0f, e2 = 0f;
        for (int d0 = 0; d0 < XMath.Max(m, l); d0 += Tile)
        {
            int d = d0 + tx;
            stage[t] = ri < p && d < m ? a.Zc[ri * m + d] : 0f;
            stage[GroupSize + t] = rj < p && d < m ? a.Zc[rj * m + d] : 0f;
            stage[2 * GroupSize + t] = ri < p && d < l ? a.Ec[ri * l + d] : 0f;
            stage[3 * GroupSize + t] = rj < p && d < l ? a.Ec[rj * l + d] : 0f;
            Group.Barrier();
            for (int q = 0; q < Tile; q++)
            {
                int qi = ty * Tile + q, qj = tx * Tile + q;
                float dz = stage[qi] - stage[GroupSize + qj];
                float de = stage[2 * GroupSize + qi] - stage[3 * GroupSize + qj];
                z2 += dz * dz;
                e2 += de * de;
            }

            Group.Barrier();
        }

        return (z2, e2);
    }

    internal static void EuclideanPassKernel(EuclideanArgs a)
    {
        var stage = SharedMemory.Allocate<float>(4 * GroupSize);
        var weights = SharedMemory.Allocate<float>(GroupSize);
        var reduce = SharedMemory.Allocate<double>(3 * GroupSize);
        int t = Group.IdxX, tx = t % Tile, ty = t / Tile;
        int p = a.P, m = a.M;
        int i0 = Grid.IdxX * Tile;
        int i = i0 + ty;
        double szz = 0, see = 0, sze = 0;
        for (int j0 = 0; j0 < p; j0 += Tile)
        {
            (float dz2, float de2) = TileSquaredDistances(a, i0, j0, stage);
            bool valid = i < p && j0 + tx < p;
            double dzv = XMath.Sqrt((double)dz2), dev = XMath.Sqrt((double)de2);
            if (valid)
            {
                szz += dzv * dzv;
                see += dev * dev;
                sze += dzv * dev;
            }

            weights[t] = valid && dzv > 0 ? (float)(dev / dzv) : 0f;
            Group.Barrier();
            if (i < p)
            {
                for (int k = tx; k < m; k += Tile)
                {
                    double zik = a.Zc[i * m + k];
                    double s = 0;
                    int jEnd = XMath.Min(Tile, p - j0);
                    for (int jj = 0; jj < jEnd; jj++)
                    {
                        s += weights[ty * Tile + jj] * (zik - a.Zc[(j0 + jj) * m + k]);
                    }

                    a.Weighted[i * m + k] = j0 == 0 ? s : a.Weighted[i * m + k] + s;
                }
            }

            // No barrier needed before the next tile rewrites weights: that write follows the
            // next tile's staging barrier (m ≥ 1), which every thread reaches only after these
            // reads.
        }

        reduce[t] = szz;
        reduce[GroupSize + t] = see;
        reduce[2 * GroupSize + t] = sze;
        FoldRows(reduce, 3);
        if (t == 0)
        {
            a.Partials[3 * Grid.IdxX] = reduce[0];
            a.Partials[3 * Grid.IdxX + 1] = reduce[GroupSize];
            a.Partials[3 * Grid.IdxX + 2] = reduce[2 * GroupSize];
        }
    }

    // One group folds the per-tile sums into Sums = [S_zz, S_ee, S_ze] and writes the loss.
    internal static void EuclideanFinishKernel(EuclideanArgs a)
    {
        var reduce = SharedMemory.Allocate<double>(3 * GroupSize);
        int t = Group.IdxX;
        int tiles = (a.P + Tile - 1) / Tile;
        double szz = 0, see = 0, sze = 0;
        for (int g = t; g < tiles; g += GroupSize)
        {
            szz += a.Partials[3 * g];
            see += a.Partials[3 * g + 1];
            sze += a.Partials[3 * g + 2];
        }

        reduce[t] = szz;
        reduce[GroupSize + t] = see;
        reduce[2 * GroupSize + t] = sze;
        FoldRows(reduce, 3);
        if (t == 0)
        {
            szz = reduce[0];
            see = reduce[GroupSize];
            sze = reduce[2 * GroupSize];
            a.Sums[0] = szz;
            a.Sums[1] = see;
            a.Sums[2] = sze;
            double p2 = (double)a.P * a.P;
            a.Loss[0] = (float)(szz <= 0 || see <= 0
                ? ((szz > 0 ? 1.0 : 0.0) + (see > 0 ? 1.0 : 0.0)) / p2
                : 2.0 / p2 * (1.0 - sze / XMath.Sqrt(szz * see)));
        }
    }

    // dz_i = 2α·weighted_i + 2β·p·zc_i, or 0 when either distance set is all zero.
    internal static void EuclideanGradientKernel(Index1D idx, EuclideanArgs a)
    {
        double szz = a.Sums[0], see = a.Sums[1], sze = a.Sums[2];
        if (szz <= 0 || see <= 0)
        {
            a.Dz[idx] = 0f;
            return;
        }

        double dL = a.DLoss[0];
        double p2 = (double)a.P * a.P;
        double nz = XMath.Sqrt(szz), ne = XMath.Sqrt(see);
        double alpha = -2.0 / p2 * dL / (ne * nz);
        double beta = 2.0 / p2 * dL * sze / (ne * nz * nz * nz);
        a.Dz[idx] = (float)(2.0 * alpha * a.Weighted[idx] + 2.0 * beta * a.P * a.Zc[idx]);
    }
}
