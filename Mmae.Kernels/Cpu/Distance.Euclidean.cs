using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Mmae.Kernels.Cpu;

// L_mm on plain distances, fused and tiled: no p×p matrix is ever stored.
// p = points, m = latent dim, l = reference dim; z: (p, m), e: (p, l);
// dz_ij = ||z_i − z_j||, de_ij = ||e_i − e_j||; S_zz = Σ dz², S_ee = Σ de², S_ze = Σ dz·de.
// L = (2/p²)·(1 − S_ze/√(S_zz·S_ee)).
// Backward: with N_Z = √S_zz, N_E = √S_ee, α = −(2/p²)·dL/(N_E·N_Z) and
// β = (2/p²)·dL·S_ze/(N_E·N_Z³), ∂L/∂D_ij = α·de_ij + β·dz_ij, so
// ∂L/∂z_i = 2α·Σ_j (de_ij/dz_ij)(z_i − z_j) + 2β·p·(z_i − z̄)   (pairs with dz_ij = 0 skipped).
// One pass over all pairs gives the three sums and the weighted row sums together.
// Tiles of PairTileRows × PairTileCols pairs are computed, reduced and discarded: memory is
// O(p·(m + l)) whatever p is. Rows are centred on the batch mean first (distances do not
// change). In a tile, squared distances come from SGEMM as ||a||² + ||b||² − 2⟨a, b⟩, whose
// rounding error is a few u·(||a||² + ||b||²); a pair whose squared distance falls below
// CancellationGuard·(||a||² + ||b||²) is recomputed from coordinate differences, so nearly equal
// points keep their digits and every kept value has a relative error of at most ~8 × a few u.
// The weighted sums of the backward pass are one more SGEMM per tile: W·Z_J.
public sealed partial class CpuBackend
{
    private const int PairTileRows = 64;
    private const int PairTileCols = 256;
    /// <summary>
    /// In the plain-distance matching loss, a pair whose squared distance is below this fraction
    /// of ||a||² + ||b||² (after centring) is recomputed from coordinate differences instead of
    /// the SGEMM expansion, so its relative error stays within ~(1/guard)·√dim·u.
    /// </summary>
    public const float CancellationGuard = 1f / 8;

    // The last forward pass's sums and weighted row sums, for the backward pass that follows it.
    // The weights de/dz do not depend on dLoss, so the forward pass forms Σ_j w_ij(z_i − z_j)
    // while its tiles are at hand and the backward pass only scales it.
    private (float[] Z, float[] E, int P, int M, int L, EuclideanSums Sums)? _lastEuclidean;

    private sealed record EuclideanSums(double Szz, double See, double Sze, float[] Zc, float[] Weighted);

    /// <inheritdoc/>
    public void EuclideanMatchLossForward(
        DeviceBuffer z,
        DeviceBuffer e,
        int p,
        int m,
        int l,
        DeviceBuffer loss)
    {
        float[] pz = F(z), pe = F(e);
        EuclideanSums sums = EuclideanPass(pz, pe, p, m, l);
        _lastEuclidean = (pz, pe, p, m, l, sums);
        F(loss)[0] = (float)EuclideanLoss(sums, p);
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
        float[] pz = F(z), pe = F(e), pdz = F(dz);

        // IBackend's contract: the buffers did not change since the forward pass just before.
        EuclideanSums s = _lastEuclidean is var (lz, le, lp, lm, ll, last)
            && ReferenceEquals(lz, pz) && ReferenceEquals(le, pe) && (lp, lm, ll) == (p, m, l)
            ? last
            : EuclideanPass(pz, pe, p, m, l);
        _lastEuclidean = null;
        if (s.Szz <= 0 || s.See <= 0)
        {
            Array.Clear(pdz, 0, p * m);
            return;
        }

        double dL = F(dLoss)[0];
        double p2 = (double)p * p;
        double nz = Math.Sqrt(s.Szz), ne = Math.Sqrt(s.See);
        double alpha = -2.0 / p2 * dL / (ne * nz);
        double beta = 2.0 / p2 * dL * s.Sze / (ne * nz * nz * nz);
        for (int i = 0; i < p * m; i++)
        {
            pdz[i] = (float)(2.0 * alpha * s.Weighted[i] + 2.0 * beta * p * s.Zc[i]);
        }
    }

    private static double EuclideanLoss(EuclideanSums s, int p)
    {
        double p2 = (double)p * p;
        if (s.Szz <= 0 || s.See <= 0)
        {
            return ((s.Szz > 0 ? 1.0 : 0.0) + (s.See > 0 ? 1.0 : 0.0)) / p2;
        }

        return 2.0 / p2 * (1.0 - s.Sze / Math.Sqrt(s.Szz * s.See));
    }

    // The three sums over all ordered pairs, the centred z, and
    // weighted_i = Σ_j (de_ij/dz_ij)(z_i − z_j).
    // Work is split by row tiles, so each thread owns its rows of weighted and its partial sums,
    // and the summation order does not depend on the thread count.
    private EuclideanSums EuclideanPass(float[] z, float[] e, int p, int m, int l)
    {
        var weighted = new float[p * m];
        float[] zc = Centre(z, p, m);
        float[] ec = Centre(e, p, l);
        var tiles = new PairTiles(zc, ec, RowSquaredNorms(zc, p, m), RowSquaredNorms(ec, p, l), p, m, l);
        int blocks = (p + PairTileRows - 1) / PairTileRows;
        var partial = new double[blocks * 3];
        Parallelism.ForChunks(blocks, 1, Threads, (b0, b1) =>
        {
            float[] dz2 = ArrayPool<float>.Shared.Rent(PairTileRows * PairTileCols);
            float[] de2 = ArrayPool<float>.Shared.Rent(PairTileRows * PairTileCols);
            var refined = new List<int>();
            try
            {
                for (int b = b0; b < b1; b++)
                {
                    tiles.RowBlock(b * PairTileRows, dz2, de2, refined, weighted, partial.AsSpan(3 * b, 3));
                }
            }
            finally
            {
                ArrayPool<float>.Shared.Return(dz2);
                ArrayPool<float>.Shared.Return(de2);
            }
        });

        double tzz = 0, tee = 0, tze = 0;
        for (int b = 0; b < blocks; b++)
        {
            tzz += partial[3 * b];
            tee += partial[3 * b + 1];
            tze += partial[3 * b + 2];
        }

        return new EuclideanSums(tzz, tee, tze, zc, weighted);
    }

    private static float[] Centre(float[] x, int rows, int cols)
    {
        double[] mean = ColumnMeans(x, rows, cols);
        var c = new float[rows * cols];
        for (int i = 0; i < rows; i++)
        {
            for (int k = 0; k < cols; k++)
            {
                c[i * cols + k] = (float)(x[i * cols + k] - mean[k]);
            }
        }

        return c;
    }

    // ||x_i − x_j||² from coordinate differences.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float SquaredDistance(float[] x, int i, int j, int dim)
    {
        ref float xi = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(x), i * dim);
        ref float xj = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(x), j * dim);
        Vector256<float> acc = Vector256<float>.Zero;
        int k = 0;
        for (; k <= dim - 8; k += 8)
        {
            Vector256<float> d = Vector256.LoadUnsafe(ref xi, (nuint)k) - Vector256.LoadUnsafe(ref xj, (nuint)k);
            acc = Vector256.FusedMultiplyAdd(d, d, acc);
        }

        float sum = Vector256.Sum(acc);
        for (; k < dim; k++)
        {
            float d = Unsafe.Add(ref xi, k) - Unsafe.Add(ref xj, k);
            sum += d * d;
        }

        return sum;
    }

    // weighted_i += w·(x_i − x_j)
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddScaledDifference(float w, float[] x, int i, int j, int dim, float[] weighted)
    {
        ref float xi = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(x), i * dim);
        ref float xj = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(x), j * dim);
        ref float acc = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(weighted), i * dim);
        var vw = Vector256.Create(w);
        int k = 0;
        for (; k <= dim - 8; k += 8)
        {
            Vector256<float> d = Vector256.LoadUnsafe(ref xi, (nuint)k) - Vector256.LoadUnsafe(ref xj, (nuint)k);
            Vector256.FusedMultiplyAdd(vw, d, Vector256.LoadUnsafe(ref acc, (nuint)k)).StoreUnsafe(ref acc, (nuint)k);
        }

        for (; k < dim; k++)
        {
            Unsafe.Add(ref acc, k) += w * (Unsafe.Add(ref xi, k) - Unsafe.Add(ref xj, k));
        }
    }

    private static float[] RowSquaredNorms(float[] x, int rows, int dim)
    {
        var norms = new float[rows];
        for (int i = 0; i < rows; i++)
        {
            double sum = 0;
            foreach (float v in x.AsSpan(i * dim, dim))
            {
                sum += (double)v * v;
            }

            norms[i] = (float)sum;
        }

        return norms;
    }
}
