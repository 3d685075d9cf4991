using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace Mmae.Kernels.Gpu;

// L_mm on plain distances, fused and tiled: only 16×16 tiles ever sit in shared memory, never
// a p×p matrix (the CPU twin, Cpu/Distance.Euclidean.cs, has the derivation).
// p = points, m = latent dim, l = reference dim; z, zc, dz: (p, m); e, ec: (p, l);
// dz_ij = ||zc_i − zc_j||, de_ij = ||ec_i − ec_j|| on batch-centred rows;
// S_zz = Σ dz², S_ee = Σ de², S_ze = Σ dz·de over ordered pairs; L = (2/p²)(1 − S_ze/√(S_zz·S_ee)).
// Backward: α = −(2/p²)·dLoss/(N_E·N_Z), β = (2/p²)·dLoss·S_ze/(N_E·N_Z³) with N = √S, and
//   dz_i = 2α·Σ_j (de_ij/dz_ij)(zc_i − zc_j) + 2β·p·zc_i   (pairs with dz_ij = 0 skipped).
// Pass kernel: one group per 16-row tile i0 walks every 16-column tile j0. Per step the group
// stages 16 coordinates of both row strips in shared memory and thread (ty, tx) accumulates
// the squared distance of pair (i0 + ty, j0 + tx); the same for e. For the backward pass the
// pair weights de/dz go to a 16×16 shared tile, and thread (ty, tx) adds the weighted
// differences for row i0 + ty, coordinates tx, tx + 16, ... into a float64 buffer only it
// writes. The three sums fold per group in a fixed tree, then one group folds the groups.
// O(p²·(m + l)) time, O(p·(m + l)) memory, deterministic.
public sealed partial class GpuBackend
{
    private Action<Index1D, ArrayView<float>, ArrayView<double>, int, int, ArrayView<float>>
        _centre = null!;
    private Action<KernelConfig, EuclideanArgs> _euclideanPass = null!;
    private Action<KernelConfig, EuclideanArgs> _euclideanFinish = null!;
    private Action<Index1D, EuclideanArgs> _euclideanGradient = null!;

    /// <inheritdoc/>
    public void EuclideanMatchLossForward(
        DeviceBuffer z,
        DeviceBuffer e,
        int p,
        int m,
        int l,
        DeviceBuffer loss)
    {
        EuclideanArgs args = EuclideanPass(z, e, p, m, l, backward: false);
        args.Loss = V(loss);
        _euclideanFinish(Groups(1), args);
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
        EuclideanArgs args = EuclideanPass(z, e, p, m, l, backward: true);
        args.Loss = Scratch("euclidean-loss", 1).Cast<float>();
        args.DLoss = V(dLoss);
        args.Dz = V(dz);
        _euclideanFinish(Groups(1), args);
        Launch(p * m, _euclideanGradient, args);
    }

    private EuclideanArgs EuclideanPass(
        DeviceBuffer z,
        DeviceBuffer e,
        int p,
        int m,
        int l,
        bool backward)
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
            Zc = zc, Ec = ec, P = p, M = m, L = l, Backward = backward ? 1 : 0,
            Partials = Scratch("euclidean-partials", 3L * tiles),
            Sums = Scratch("euclidean-sums", 3),
            Weighted = Scratch("euclidean-weighted", backward ? (long)p * m : 1),
        };
        _euclideanPass(Groups(tiles), args);
        return args;
    }

    private void RegisterEuclidean()
    {
        Register(nameof(CentreKernel), () => _centre =
            _accelerator.LoadAutoGroupedStreamKernel<
                Index1D, ArrayView<float>, ArrayView<double>, int, int, ArrayView<float>>(
                CentreKernel));
        Register(nameof(EuclideanPassKernel), () => _euclideanPass =
            _accelerator.LoadStreamKernel<EuclideanArgs>(EuclideanPassKernel));
        Register(nameof(EuclideanFinishKernel), () => _euclideanFinish =
            _accelerator.LoadStreamKernel<EuclideanArgs>(EuclideanFinishKernel));
        Register(nameof(EuclideanGradientKernel), () => _euclideanGradient =
            _accelerator.LoadAutoGroupedStreamKernel<Index1D, EuclideanArgs>(
                EuclideanGradientKernel));
    }

    /// <summary>Every view and size the plain-distance kernels share, passed as one value.
    /// </summary>
    internal struct EuclideanArgs
    {
        public ArrayView<float> Zc, Ec, Loss, DLoss, Dz;
        public ArrayView<double> Partials, Sums, Weighted;
        public int P, M, L, Backward;
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

    // ||x_{i0+ty} − x_{j0+tx}||² for this thread's pair, staged 16 coordinates at a time.
    // Every thread of the group must call it (it holds barriers); rows past p read as 0.
    private static float TileSquaredDistance(
        ArrayView<float> x,
        int i0,
        int j0,
        int dim,
        int p,
        ArrayView<float> si,
        ArrayView<float> sj)
    {
        int t = Group.IdxX, tx = t % Tile, ty = t / Tile;
        float sum = 0f;
        for (int d0 = 0; d0 < dim; d0 += Tile)
        {
            int d = d0 + tx;
            si[t] = i0 + ty < p && d < dim ? x[(i0 + ty) * dim + d] : 0f;
            sj[t] = j0 + ty < p && d < dim ? x[(j0 + ty) * dim + d] : 0f;
            Group.Barrier();
            for (int q = 0; q < Tile; q++)
            {
                float diff = si[ty * Tile + q] - sj[tx * Tile + q];
                sum += diff * diff;
            }

            Group.Barrier();
        }

        return sum;
    }

    internal static void EuclideanPassKernel(EuclideanArgs a)
    {
        var si = SharedMemory.Allocate<float>(GroupSize);
        var sj = SharedMemory.Allocate<float>(GroupSize);
        var weights = SharedMemory.Allocate<float>(GroupSize);
        var reduce = SharedMemory.Allocate<double>(GroupSize);
        int t = Group.IdxX, tx = t % Tile, ty = t / Tile;
        int p = a.P, m = a.M;
        int i0 = Grid.IdxX * Tile;
        int i = i0 + ty;
        double szz = 0, see = 0, sze = 0;
        for (int j0 = 0; j0 < p; j0 += Tile)
        {
            float dz2 = TileSquaredDistance(a.Zc, i0, j0, m, p, si, sj);
            float de2 = TileSquaredDistance(a.Ec, i0, j0, a.L, p, si, sj);
            bool valid = i < p && j0 + tx < p;
            double dzv = XMath.Sqrt((double)dz2), dev = XMath.Sqrt((double)de2);
            if (valid)
            {
                szz += dzv * dzv;
                see += dev * dev;
                sze += dzv * dev;
            }

            if (a.Backward != 0)
            {
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

                Group.Barrier();
            }
        }

        szz = GroupSum(szz, reduce);
        see = GroupSum(see, reduce);
        sze = GroupSum(sze, reduce);
        if (t == 0)
        {
            a.Partials[3 * Grid.IdxX] = szz;
            a.Partials[3 * Grid.IdxX + 1] = see;
            a.Partials[3 * Grid.IdxX + 2] = sze;
        }
    }

    // One group folds the per-tile sums into Sums = [S_zz, S_ee, S_ze] and writes the loss.
    internal static void EuclideanFinishKernel(EuclideanArgs a)
    {
        var reduce = SharedMemory.Allocate<double>(GroupSize);
        int tiles = (a.P + Tile - 1) / Tile;
        double szz = 0, see = 0, sze = 0;
        for (int g = Group.IdxX; g < tiles; g += GroupSize)
        {
            szz += a.Partials[3 * g];
            see += a.Partials[3 * g + 1];
            sze += a.Partials[3 * g + 2];
        }

        szz = GroupSum(szz, reduce);
        see = GroupSum(see, reduce);
        sze = GroupSum(sze, reduce);
        if (Group.IdxX == 0)
        {
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
