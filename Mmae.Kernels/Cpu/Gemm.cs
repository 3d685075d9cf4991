using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Mmae.Kernels.Cpu;

// C (m×n) = alpha · op(A) (m×k) · op(B) (k×n) + beta · C, row-major.
// Blocked as in the classic packed GEMM: for each kc-slice of the inner dimension, B is packed
// into NR-wide column panels and alpha·A into MR-tall row panels, both laid out so the
// micro-kernel streams them with unit stride. An MR×NR tile of C lives in 12 AVX registers for
// the whole slice. Tiles are split over cores; each tile is summed by one thread in a fixed
// k order, so the result does not depend on the thread count.
internal static unsafe class Gemm
{
    internal const int MR = 6;
    internal const int NR = 16;
    private const int KC = 256;
    private const int MC = 96;
    private const int NB = 256;

    public static void Run(
        bool transA,
        bool transB,
        int m,
        int n,
        int k,
        float alpha,
        float[] a,
        float[] b,
        float beta,
        float[] c,
        int threads)
    {
        Debug.Assert(a.Length >= m * k && b.Length >= k * n && c.Length >= m * n);
        if (m == 0 || n == 0)
        {
            return;
        }

        ScaleC(c, m * n, beta);
        if (k == 0 || alpha == 0f)
        {
            return;
        }

        int mPanels = (m + MR - 1) / MR;
        int nPanels = (n + NR - 1) / NR;
        int kcMax = Math.Min(KC, k);
        float[] packA = ArrayPool<float>.Shared.Rent(mPanels * MR * kcMax);
        float[] packB = ArrayPool<float>.Shared.Rent(nPanels * NR * kcMax);
        try
        {
            for (int k0 = 0; k0 < k; k0 += KC)
            {
                int kc = Math.Min(KC, k - k0);
                PackAll(transA, transB, m, n, k, k0, kc, alpha, a, b, packA, packB, threads);
                RunTiles(m, n, kc, packA, packB, c, threads);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(packA);
            ArrayPool<float>.Shared.Return(packB);
        }
    }

    private static void ScaleC(float[] c, int count, float beta)
    {
        if (beta == 0f)
        {
            Array.Clear(c, 0, count);
        }
        else if (beta != 1f)
        {
            Elementwise.Scale(c.AsSpan(0, count), beta);
        }
    }

    private static void PackAll(
        bool transA,
        bool transB,
        int m,
        int n,
        int k,
        int k0,
        int kc,
        float alpha,
        float[] a,
        float[] b,
        float[] packA,
        float[] packB,
        int threads)
    {
        int mPanels = (m + MR - 1) / MR;
        int nPanels = (n + NR - 1) / NR;
        int jobs = mPanels + nPanels;
        Parallel.For(0, jobs, Parallelism.Options(threads), job =>
        {
            if (job < mPanels)
            {
                PackAPanel(transA, m, k, k0, kc, alpha, a, packA, job);
            }
            else
            {
                PackBPanel(transB, n, k, k0, kc, b, packB, job - mPanels);
            }
        });
    }

    // Panel p of A holds rows p·MR .. p·MR+MR−1 for inner indices k0 .. k0+kc−1, stored as
    // kc groups of MR values (zero-padded past row m).
    private static void PackAPanel(
        bool transA,
        int m,
        int k,
        int k0,
        int kc,
        float alpha,
        float[] a,
        float[] packA,
        int panel)
    {
        int row0 = panel * MR;
        int rows = Math.Min(MR, m - row0);
        Span<float> dst = packA.AsSpan(panel * MR * kc, MR * kc);
        if (rows < MR)
        {
            dst.Clear();
        }

        for (int r = 0; r < rows; r++)
        {
            int row = row0 + r;
            if (!transA)
            {
                // A stored m×k: row is contiguous.
                int src = row * k + k0;
                for (int kk = 0; kk < kc; kk++)
                {
                    dst[kk * MR + r] = alpha * a[src + kk];
                }
            }
            else
            {
                // A stored k×m: op(A)[row, kk] = A[kk, row].
                int src = k0 * m + row;
                for (int kk = 0; kk < kc; kk++)
                {
                    dst[kk * MR + r] = alpha * a[src + kk * m];
                }
            }
        }
    }

    // Panel p of B holds columns p·NR .. p·NR+NR−1 for inner indices k0 .. k0+kc−1, stored as
    // kc groups of NR values (zero-padded past column n).
    private static void PackBPanel(
        bool transB,
        int n,
        int k,
        int k0,
        int kc,
        float[] b,
        float[] packB,
        int panel)
    {
        int col0 = panel * NR;
        int cols = Math.Min(NR, n - col0);
        Span<float> dst = packB.AsSpan(panel * NR * kc, NR * kc);
        if (!transB)
        {
            // B stored k×n: a row segment of B is one contiguous NR-group.
            for (int kk = 0; kk < kc; kk++)
            {
                Span<float> group = dst.Slice(kk * NR, NR);
                b.AsSpan((k0 + kk) * n + col0, cols).CopyTo(group);
                if (cols < NR)
                {
                    group[cols..].Clear();
                }
            }
        }
        else
        {
            // B stored n×k: op(B)[kk, col] = B[col, kk]; each column of op(B) is contiguous.
            if (cols < NR)
            {
                dst.Clear();
            }

            for (int cIdx = 0; cIdx < cols; cIdx++)
            {
                int src = (col0 + cIdx) * k + k0;
                for (int kk = 0; kk < kc; kk++)
                {
                    dst[kk * NR + cIdx] = b[src + kk];
                }
            }
        }
    }

    private static void RunTiles(int m, int n, int kc, float[] packA, float[] packB, float[] c, int threads)
    {
        int mBlocks = (m + MC - 1) / MC;
        int nBlocks = (n + NB - 1) / NB;
        int jobs = mBlocks * nBlocks;
        if (jobs == 1 || threads == 1)
        {
            for (int job = 0; job < jobs; job++)
            {
                RunBlock(job / nBlocks, job % nBlocks, m, n, kc, packA, packB, c);
            }

            return;
        }

        Parallel.For(0, jobs, Parallelism.Options(threads), job =>
            RunBlock(job / nBlocks, job % nBlocks, m, n, kc, packA, packB, c));
    }

    private static void RunBlock(
        int mBlock,
        int nBlock,
        int m,
        int n,
        int kc,
        float[] packA,
        float[] packB,
        float[] c)
    {
        int rowEnd = Math.Min(m, (mBlock + 1) * MC);
        int colEnd = Math.Min(n, (nBlock + 1) * NB);
        Span<float> edge = stackalloc float[MR * NR];
        fixed (float* pA = packA, pB = packB, pC = c)
        {
            for (int col0 = nBlock * NB; col0 < colEnd; col0 += NR)
            {
                float* panelB = pB + (col0 / NR) * NR * kc;
                int cols = Math.Min(NR, n - col0);
                for (int row0 = mBlock * MC; row0 < rowEnd; row0 += MR)
                {
                    float* panelA = pA + (row0 / MR) * MR * kc;
                    int rows = Math.Min(MR, m - row0);
                    if (rows == MR && cols == NR)
                    {
                        Micro(panelA, panelB, kc, pC + row0 * n + col0, n);
                    }
                    else
                    {
                        // Partial tile: compute into a scratch tile, then add the valid part.
                        edge.Clear();
                        fixed (float* pE = edge)
                        {
                            Micro(panelA, panelB, kc, pE, NR);
                        }

                        for (int r = 0; r < rows; r++)
                        {
                            float* dst = pC + (row0 + r) * n + col0;
                            for (int j = 0; j < cols; j++)
                            {
                                dst[j] += edge[r * NR + j];
                            }
                        }
                    }
                }
            }
        }
    }

    // C[0..MR, 0..NR] += Apanel · Bpanel over kc inner steps; ldc is C's row stride.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Micro(float* a, float* b, int kc, float* c, int ldc)
    {
        if (Fma.IsSupported)
        {
            MicroFma(a, b, kc, c, ldc);
        }
        else
        {
            MicroScalar(a, b, kc, c, ldc);
        }
    }

    private static void MicroFma(float* a, float* b, int kc, float* c, int ldc)
    {
        Vector256<float> c00 = Vector256<float>.Zero, c01 = Vector256<float>.Zero;
        Vector256<float> c10 = Vector256<float>.Zero, c11 = Vector256<float>.Zero;
        Vector256<float> c20 = Vector256<float>.Zero, c21 = Vector256<float>.Zero;
        Vector256<float> c30 = Vector256<float>.Zero, c31 = Vector256<float>.Zero;
        Vector256<float> c40 = Vector256<float>.Zero, c41 = Vector256<float>.Zero;
        Vector256<float> c50 = Vector256<float>.Zero, c51 = Vector256<float>.Zero;
        for (int kk = 0; kk < kc; kk++)
        {
            Vector256<float> b0 = Avx.LoadVector256(b);
            Vector256<float> b1 = Avx.LoadVector256(b + 8);
            Vector256<float> av = Vector256.Create(a[0]);
            c00 = Fma.MultiplyAdd(av, b0, c00);
            c01 = Fma.MultiplyAdd(av, b1, c01);
            av = Vector256.Create(a[1]);
            c10 = Fma.MultiplyAdd(av, b0, c10);
            c11 = Fma.MultiplyAdd(av, b1, c11);
            av = Vector256.Create(a[2]);
            c20 = Fma.MultiplyAdd(av, b0, c20);
            c21 = Fma.MultiplyAdd(av, b1, c21);
            av = Vector256.Create(a[3]);
            c30 = Fma.MultiplyAdd(av, b0, c30);
            c31 = Fma.MultiplyAdd(av, b1, c31);
            av = Vector256.Create(a[4]);
            c40 = Fma.MultiplyAdd(av, b0, c40);
            c41 = Fma.MultiplyAdd(av, b1, c41);
            av = Vector256.Create(a[5]);
            c50 = Fma.MultiplyAdd(av, b0, c50);
            c51 = Fma.MultiplyAdd(av, b1, c51);
            a += MR;
            b += NR;
        }

        AddRow(c, c00, c01);
        AddRow(c + ldc, c10, c11);
        AddRow(c + 2 * ldc, c20, c21);
        AddRow(c + 3 * ldc, c30, c31);
        AddRow(c + 4 * ldc, c40, c41);
        AddRow(c + 5 * ldc, c50, c51);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRow(float* c, Vector256<float> lo, Vector256<float> hi)
    {
        Avx.Store(c, Avx.Add(Avx.LoadVector256(c), lo));
        Avx.Store(c + 8, Avx.Add(Avx.LoadVector256(c + 8), hi));
    }

    // Portable path for processors without AVX2/FMA: same tile, plain loops.
    private static void MicroScalar(float* a, float* b, int kc, float* c, int ldc)
    {
        float* acc = stackalloc float[MR * NR];
        for (int i = 0; i < MR * NR; i++)
        {
            acc[i] = 0f;
        }

        for (int kk = 0; kk < kc; kk++)
        {
            for (int r = 0; r < MR; r++)
            {
                float av = a[r];
                for (int j = 0; j < NR; j++)
                {
                    acc[r * NR + j] += av * b[j];
                }
            }

            a += MR;
            b += NR;
        }

        for (int r = 0; r < MR; r++)
        {
            for (int j = 0; j < NR; j++)
            {
                c[r * ldc + j] += acc[r * NR + j];
            }
        }
    }
}
