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
// Distances come from coordinate differences of batch-centred rows, never from
// ||a||² + ||b||² − 2⟨a, b⟩, so nearly equal points far from the origin keep their digits.
// Rows are processed in blocks of RowBlock against every other row: the block's rows stay in L1
// while each other row is loaded once per block.
public sealed partial class CpuBackend
{
    private const int RowBlock = 8;

    /// <inheritdoc/>
    public void EuclideanMatchLossForward(
        DeviceBuffer z,
        DeviceBuffer e,
        int p,
        int m,
        int l,
        DeviceBuffer loss)
    {
        var sums = EuclideanPass(F(z), F(e), p, m, l, null);
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
        float[] pdz = F(dz);
        var weighted = new float[p * m];
        var (szz, see, sze, zc) = EuclideanPass(F(z), F(e), p, m, l, weighted);
        if (szz <= 0 || see <= 0)
        {
            Array.Clear(pdz, 0, p * m);
            return;
        }

        double dL = F(dLoss)[0];
        double p2 = (double)p * p;
        double nz = Math.Sqrt(szz), ne = Math.Sqrt(see);
        double alpha = -2.0 / p2 * dL / (ne * nz);
        double beta = 2.0 / p2 * dL * sze / (ne * nz * nz * nz);
        for (int i = 0; i < p * m; i++)
        {
            pdz[i] = (float)(2.0 * alpha * weighted[i] + 2.0 * beta * p * zc[i]);
        }
    }

    private static double EuclideanLoss((double Szz, double See, double Sze, float[] Zc) s, int p)
    {
        double p2 = (double)p * p;
        if (s.Szz <= 0 || s.See <= 0)
        {
            return ((s.Szz > 0 ? 1.0 : 0.0) + (s.See > 0 ? 1.0 : 0.0)) / p2;
        }

        return 2.0 / p2 * (1.0 - s.Sze / Math.Sqrt(s.Szz * s.See));
    }

    // The three sums over all ordered pairs, and when weighted is given,
    // weighted_i = Σ_j (de_ij/dz_ij)(z_i − z_j). Returns the centred z as well.
    private (double Szz, double See, double Sze, float[] Zc) EuclideanPass(
        float[] z,
        float[] e,
        int p,
        int m,
        int l,
        float[]? weighted)
    {
        float[] zc = Centre(z, p, m);
        float[] ec = Centre(e, p, l);
        int blocks = (p + RowBlock - 1) / RowBlock;
        var partial = new double[blocks * 3];
        Parallelism.ForChunks(blocks, 1, Threads, (b0, b1) =>
        {
            Span<float> dzRow = stackalloc float[RowBlock];
            Span<float> deRow = stackalloc float[RowBlock];
            for (int b = b0; b < b1; b++)
            {
                int i0 = b * RowBlock;
                int rows = Math.Min(RowBlock, p - i0);
                double szz = 0, see = 0, sze = 0;
                for (int j = 0; j < p; j++)
                {
                    SquaredDistancesToRow(zc, i0, rows, j, m, dzRow);
                    SquaredDistancesToRow(ec, i0, rows, j, l, deRow);
                    for (int r = 0; r < rows; r++)
                    {
                        double dzv = Math.Sqrt(dzRow[r]), dev = Math.Sqrt(deRow[r]);
                        szz += dzv * dzv;
                        see += dev * dev;
                        sze += dzv * dev;
                        if (weighted is not null && dzv > 0)
                        {
                            AddScaledDifference((float)(dev / dzv), zc, i0 + r, j, m, weighted);
                        }
                    }
                }

                partial[3 * b] = szz;
                partial[3 * b + 1] = see;
                partial[3 * b + 2] = sze;
            }
        });

        double tzz = 0, tee = 0, tze = 0;
        for (int b = 0; b < blocks; b++)
        {
            tzz += partial[3 * b];
            tee += partial[3 * b + 1];
            tze += partial[3 * b + 2];
        }

        return (tzz, tee, tze, zc);
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

    // out[r] = ||x_{i0+r} − x_j||² for r < rows; x_j is loaded once for the whole block.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SquaredDistancesToRow(float[] x, int i0, int rows, int j, int dim, Span<float> output)
    {
        ref float bx = ref MemoryMarshal.GetArrayDataReference(x);
        for (int r = 0; r < rows; r++)
        {
            ref float xi = ref Unsafe.Add(ref bx, (i0 + r) * dim);
            ref float xj = ref Unsafe.Add(ref bx, j * dim);
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

            output[r] = sum;
        }
    }

    // weighted_i += w·(x_i − x_j)
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddScaledDifference(float w, float[] x, int i, int j, int dim, float[] weighted)
    {
        ref float xi = ref MemoryMarshal.GetArrayDataReference(x);
        xi = ref Unsafe.Add(ref xi, i * dim);
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
}
