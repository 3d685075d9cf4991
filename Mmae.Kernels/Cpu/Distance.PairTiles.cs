using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Mmae.Kernels.Cpu;

public sealed partial class CpuBackend
{
    // The tiles of the plain-distance matching loss (see Distance.Euclidean.cs).
    // zc: (p, m) and ec: (p, l) centred rows; nz, ne their squared row norms.
    private sealed class PairTiles(float[] zc, float[] ec, float[] nz, float[] ne, int p, int m, int l)
    {
        // Rows i0 .. i0+PairTileRows−1 against every row: Σ dz², Σ de², Σ dz·de into sums[0..2],
        // and weighted's rows (zero on entry) set to Σ_j (de_ij/dz_ij)(z_i − z_j).
        // dz2 and de2 are scratch tiles of PairTileRows × PairTileCols.
        // Pairs of Z recomputed from differences are listed in `refined` (as r·cols + c): their
        // weights can be large (de/dz with a tiny dz) and are applied as w·(z_i − z_j) directly,
        // since the expanded Σw·z_i − Σw·z_j would cancel most of their digits.
        public void RowBlock(
            int i0,
            float[] dz2,
            float[] de2,
            List<int> refined,
            float[] weighted,
            Span<double> sums)
        {
            int rows = Math.Min(PairTileRows, p - i0);
            Span<double> rowWeights = stackalloc double[PairTileRows];
            rowWeights.Clear();
            double szz = 0, see = 0, sze = 0;
            for (int j0 = 0; j0 < p; j0 += PairTileCols)
            {
                int cols = Math.Min(PairTileCols, p - j0);
                refined.Clear();
                SquaredDistances(zc, nz, m, i0, rows, j0, cols, dz2, refined);
                SquaredDistances(ec, ne, l, i0, rows, j0, cols, de2, null);
                for (int r = 0; r < rows; r++)
                {
                    var row = ReduceRow(dz2.AsSpan(r * cols, cols), de2.AsSpan(r * cols, cols));
                    szz += row.Szz;
                    see += row.See;
                    sze += row.Sze;
                    rowWeights[r] += row.WeightSum;
                }

                foreach (int idx in refined)
                {
                    int r = idx / cols;
                    float w = dz2[idx];
                    dz2[idx] = 0f;
                    rowWeights[r] -= w;
                    AddScaledDifference(w, zc, i0 + r, j0 + idx % cols, m, weighted);
                }

                // weighted_I −= W·Z_J, with the other weights W (rows × cols) left in dz2.
                Gemm<float>.RunSlices(
                    false, false, rows, m, cols, -1f,
                    new(dz2, 0, rows * cols), new(zc, j0 * m, cols * m), 1f, new(weighted, i0 * m, rows * m), 1);
            }

            // weighted_i += (Σ_j w_ij)·z_i
            for (int r = 0; r < rows; r++)
            {
                float w = (float)rowWeights[r];
                Span<float> dst = weighted.AsSpan((i0 + r) * m, m);
                ReadOnlySpan<float> src = zc.AsSpan((i0 + r) * m, m);
                for (int k = 0; k < m; k++)
                {
                    dst[k] += w * src[k];
                }
            }

            sums[0] = szz;
            sums[1] = see;
            sums[2] = sze;
        }

        // dst (rows × cols) = ||x_i − x_j||² for i in i0.., j in j0.., through one SGEMM, with the
        // pairs that cancelled too much recomputed from differences.
        private static void SquaredDistances(
            float[] x,
            float[] norms,
            int dim,
            int i0,
            int rows,
            int j0,
            int cols,
            float[] dst,
            List<int>? refined)
        {
            Gemm<float>.RunSlices(
                false, true, rows, cols, dim, -2f,
                new(x, i0 * dim, rows * dim), new(x, j0 * dim, cols * dim), 0f, new(dst, 0, rows * cols), 1);
            for (int r = 0; r < rows; r++)
            {
                FinishRow(x, norms, dim, i0 + r, j0, dst.AsSpan(r * cols, cols), refined, r * cols);
            }
        }

        // row[c] holds −2⟨x_i, x_j⟩ for j = j0 + c; turns it into ||x_i − x_j||².
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static void FinishRow(
            float[] x,
            float[] norms,
            int dim,
            int i,
            int j0,
            Span<float> row,
            List<int>? refined,
            int rowStart)
        {
            int n = row.Length;
            ref float g = ref MemoryMarshal.GetReference(row);
            ref float nj = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(norms), j0);
            var ni = Vector256.Create(norms[i]);
            var guard = Vector256.Create(CancellationGuard);
            int c = 0;
            for (; c <= n - 8; c += 8)
            {
                Vector256<float> s = ni + Vector256.LoadUnsafe(ref nj, (nuint)c);
                Vector256<float> d = Vector256.Max(Vector256.LoadUnsafe(ref g, (nuint)c) + s, Vector256<float>.Zero);
                d.StoreUnsafe(ref g, (nuint)c);
                uint suspect = Vector256.LessThan(d, guard * s).ExtractMostSignificantBits();
                while (suspect != 0)
                {
                    int lane = System.Numerics.BitOperations.TrailingZeroCount(suspect);
                    row[c + lane] = SquaredDistance(x, i, j0 + c + lane, dim);
                    refined?.Add(rowStart + c + lane);
                    suspect &= suspect - 1;
                }
            }

            for (; c < n; c++)
            {
                float s = norms[i] + norms[j0 + c];
                float d = Math.Max(row[c] + s, 0f);
                if (d < CancellationGuard * s)
                {
                    d = SquaredDistance(x, i, j0 + c, dim);
                    refined?.Add(rowStart + c);
                }

                row[c] = d;
            }
        }

        // Σ dz², Σ de², Σ dz·de over one tile row; dz2 is overwritten with the weights
        // w = de/dz (0 where dz = 0), whose sum is returned too. The sums are float64: near
        // convergence the loss is 1 − Σdz·de/√(Σdz²·Σde²), a difference of numbers near 1, and a
        // float32 running sum would leave few of its digits.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static (double Szz, double See, double Sze, double WeightSum) ReduceRow(
            Span<float> dz2,
            ReadOnlySpan<float> de2)
        {
            int n = dz2.Length;
            ref float pz = ref MemoryMarshal.GetReference(dz2);
            ref float pe = ref MemoryMarshal.GetReference(de2);
            Vector256<double> azz = Vector256<double>.Zero, aee = azz, aze = azz, aw = azz;
            int c = 0;
            for (; c <= n - 8; c += 8)
            {
                Vector256<float> z2 = Vector256.LoadUnsafe(ref pz, (nuint)c);
                Vector256<float> e2 = Vector256.LoadUnsafe(ref pe, (nuint)c);
                Vector256<float> dz = Vector256.Sqrt(z2), de = Vector256.Sqrt(e2);
                azz += Widened(z2);
                aee += Widened(e2);
                aze += Widened(dz * de);
                Vector256<float> w = Vector256.ConditionalSelect(
                    Vector256.GreaterThan(dz, Vector256<float>.Zero), de / dz, Vector256<float>.Zero);
                aw += Widened(w);
                w.StoreUnsafe(ref pz, (nuint)c);
            }

            double szz = Vector256.Sum(azz), see = Vector256.Sum(aee), sze = Vector256.Sum(aze);
            double wsum = Vector256.Sum(aw);
            for (; c < n; c++)
            {
                double dz = Math.Sqrt(dz2[c]), de = Math.Sqrt(de2[c]);
                szz += dz2[c];
                see += de2[c];
                sze += dz * de;
                float w = dz > 0 ? (float)(de / dz) : 0f;
                wsum += w;
                dz2[c] = w;
            }

            return (szz, see, sze, wsum);
        }

        // The eight lanes of v summed pairwise into four float64 lanes.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<double> Widened(Vector256<float> v)
        {
            var (lo, hi) = Vector256.Widen(v);
            return lo + hi;
        }
    }
}
