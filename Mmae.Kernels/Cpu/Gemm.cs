using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Numerics;
using System.Runtime.Intrinsics.X86;

namespace Mmae.Kernels.Cpu;

// C (m×n) = alpha · op(A) (m×k) · op(B) (k×n) + beta · C, row-major.
// Blocked as in the classic packed GEMM: for each kc-slice of the inner dimension, B is packed
// into NR-wide column panels and alpha·A into MR-tall row panels, both laid out so the
// micro-kernel streams them with unit stride. Columns of C are taken NC at a time, so a packed
// slice of B (kc·NC values, 1 MB) stays in cache while every row block of A passes over it; the
// convolution layers multiply by matrices of 16k-65k columns, whose whole packed slice would
// otherwise stream from memory. An MR×NR tile of C lives in 12 vector registers (AVX2 or
// AVX-512) for the whole slice. Tiles are split over cores; each tile is summed by one thread in a fixed
// k order, so the result does not depend on the thread count.
// The same code serves float32 (the layers) and float64 (the small Gram matrices of L_mm); the
// JIT compiles one specialised copy per element type, so the type tests below cost nothing.
internal static unsafe class Gemm<T>
    where T : unmanaged, INumber<T>
{
    internal const int MR = 6;
    // Two vectors wide: 16 floats with AVX2, 32 with AVX-512 (a JIT-time constant either way).
    private static int NR => Wide ? 2 * Vector512<T>.Count : 2 * Vector256<T>.Count;

    // 512-bit tiles where the processor runs them at full width (the JIT reports false where
    // they would throttle the clock); every C entry still sums the same products in the same
    // order, so the result is bit for bit the one of the 256-bit kernel.
    private static bool Wide => Vector512.IsHardwareAccelerated && Avx512F.IsSupported;
    private const int KC = 256;
    private const int MC = 96;
    private const int NB = 256;
    private const int NC = 1024;
    private const int SplitK = 4096;

    public static void Run(
        bool transA,
        bool transB,
        int m,
        int n,
        int k,
        T alpha,
        T[] a,
        T[] b,
        T beta,
        T[] c,
        int threads) =>
        RunSlices(transA, transB, m, n, k, alpha, a, b, beta, c, threads);

    /// <summary>The same on matrices that start at an offset of their arrays (row blocks).</summary>
    public static void RunSlices(
        bool transA,
        bool transB,
        int m,
        int n,
        int k,
        T alpha,
        ArraySegment<T> a,
        ArraySegment<T> b,
        T beta,
        ArraySegment<T> c,
        int threads,
        IRowSource<T>? bRows = null)
    {
        Debug.Assert(a.Count >= m * k && (bRows is not null || b.Count >= k * n) && c.Count >= m * n);
        if (m == 0 || n == 0)
        {
            return;
        }

        if (threads > 1 && m <= MC && n <= NB && k >= 2 * SplitK && alpha != T.Zero)
        {
            RunSplitK(transA, transB, m, n, k, alpha, a, b, beta, c, threads, bRows);
            return;
        }

        // With beta = 0 the first k-slice stores its tiles instead of adding them to a cleared
        // C: one pass less over C, which for a convolution's column matrix is tens of MB.
        bool overwrite = beta == T.Zero && k > 0 && alpha != T.Zero;
        if (!overwrite)
        {
            ScaleC(c.AsSpan(0, m * n), beta);
        }

        if (k == 0 || alpha == T.Zero)
        {
            return;
        }

        RunRange(transA, transB, m, n, k, (0, k), alpha, a, b, bRows, c, overwrite, threads);
    }

    // C (+)= alpha·op(A)·op(B) over inner indices kRange only.
    private static void RunRange(
        bool transA,
        bool transB,
        int m,
        int n,
        int k,
        (int Start, int End) kRange,
        T alpha,
        ArraySegment<T> a,
        ArraySegment<T> b,
        IRowSource<T>? bRows,
        ArraySegment<T> c,
        bool overwrite,
        int threads)
    {
        int mPanels = (m + MR - 1) / MR;
        int nPanels = (Math.Min(n, NC) + NR - 1) / NR;
        int kcMax = Math.Min(KC, kRange.End - kRange.Start);
        T[] packA = ArrayPool<T>.Shared.Rent(mPanels * MR * kcMax);
        T[] packB = ArrayPool<T>.Shared.Rent(nPanels * NR * kcMax);
        try
        {
            // Each C entry still sums its k-slices in order, so blocking columns changes no bit.
            for (int j0 = 0; j0 < n; j0 += NC)
            {
                var cols = (Start: j0, End: Math.Min(n, j0 + NC));
                for (int k0 = kRange.Start; k0 < kRange.End; k0 += KC)
                {
                    int kc = Math.Min(KC, kRange.End - k0);
                    PackAll(transA, transB, m, n, k, k0, kc, cols, alpha, a, b, bRows, packA, packB, threads);
                    RunTiles(m, n, cols, kc, overwrite && k0 == kRange.Start, packA, packB, c, threads);
                }
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(packA);
            ArrayPool<T>.Shared.Return(packB);
        }
    }

    // A product of one tile block and a long inner dimension (a weight gradient summed over
    // every position of a batch, 32×16×65536 in the dSprites network) would run on one
    // thread: its k range is cut into pieces of SplitK, computed side by side into their own
    // tiles and then added in piece order. The pieces depend only on k, so the result does not
    // depend on the thread count (its rounding differs from the unsplit sum's).
    private static void RunSplitK(
        bool transA,
        bool transB,
        int m,
        int n,
        int k,
        T alpha,
        ArraySegment<T> a,
        ArraySegment<T> b,
        T beta,
        ArraySegment<T> c,
        int threads,
        IRowSource<T>? bRows)
    {
        int pieces = (k + SplitK - 1) / SplitK, mn = m * n;
        T[] partial = ArrayPool<T>.Shared.Rent(pieces * mn);
        try
        {
            Parallelism.For(pieces, threads, piece =>
            {
                var range = (piece * SplitK, Math.Min(k, (piece + 1) * SplitK));
                RunRange(transA, transB, m, n, k, range, alpha, a, b, bRows,
                    new ArraySegment<T>(partial, piece * mn, mn), overwrite: true, threads: 1);
            });

            Span<T> dst = c.AsSpan(0, mn);
            for (int i = 0; i < mn; i++)
            {
                T sum = beta == T.Zero ? T.Zero : beta * dst[i];
                for (int piece = 0; piece < pieces; piece++)
                {
                    sum += partial[piece * mn + i];
                }

                dst[i] = sum;
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(partial);
        }
    }

    private static void ScaleC(Span<T> c, T beta)
    {
        if (beta == T.Zero)
        {
            c.Clear();
        }
        else if (beta != T.One)
        {
            foreach (ref T v in c)
            {
                v *= beta;
            }
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
        (int Start, int End) cols,
        T alpha,
        ArraySegment<T> a,
        ArraySegment<T> b,
        IRowSource<T>? bRows,
        T[] packA,
        T[] packB,
        int threads)
    {
        int mPanels = (m + MR - 1) / MR;
        int nPanels = (cols.End - cols.Start + NR - 1) / NR;
        int jobs = mPanels + nPanels;
        Parallelism.For(jobs, threads, job =>
        {
            if (job < mPanels)
            {
                PackAPanel(transA, m, k, k0, kc, alpha, a, packA, job);
            }
            else if (bRows is null)
            {
                PackBPanel(transB, n, k, k0, kc, cols, b, packB, job - mPanels);
            }
            else
            {
                PackBPanel(transB, k0, kc, cols, bRows, packB, job - mPanels);
            }
        });
    }

    // Panel p of A holds rows p·MR .. p·MR+MR−1 for inner indices k0 .. k0+kc−1, stored as
    // kc groups of MR values (zero-padded past row m).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackAPanel(
        bool transA,
        int m,
        int k,
        int k0,
        int kc,
        T alpha,
        ArraySegment<T> a,
        T[] packA,
        int panel)
    {
        int row0 = panel * MR;
        int rows = Math.Min(MR, m - row0);
        Span<T> dst = packA.AsSpan(panel * MR * kc, MR * kc);
        if (rows < MR)
        {
            dst.Clear();
        }

        if (!transA)
        {
            // A stored m×k: each row is contiguous.
            for (int r = 0; r < rows; r++)
            {
                ReadOnlySpan<T> src = a.AsSpan((row0 + r) * k + k0, kc);
                for (int kk = 0; kk < kc; kk++)
                {
                    dst[kk * MR + r] = alpha * src[kk];
                }
            }
        }
        else
        {
            // A stored k×m: op(A)[row, kk] = A[kk, row], so the panel's rows at one kk are
            // contiguous in A.
            for (int kk = 0; kk < kc; kk++)
            {
                ReadOnlySpan<T> src = a.AsSpan((k0 + kk) * m + row0, rows);
                Span<T> group = dst.Slice(kk * MR, rows);
                for (int r = 0; r < rows; r++)
                {
                    group[r] = alpha * src[r];
                }
            }
        }
    }

    // Panel p of B holds columns s + p·NR .. s + p·NR+NR−1 of the column block [s, e), for inner
    // indices k0 .. k0+kc−1, stored as kc groups of NR values (zero-padded past column e).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackBPanel(
        bool transB,
        int n,
        int k,
        int k0,
        int kc,
        (int Start, int End) block,
        ArraySegment<T> b,
        T[] packB,
        int panel)
    {
        int col0 = block.Start + panel * NR;
        int cols = Math.Min(NR, block.End - col0);
        Span<T> dst = packB.AsSpan(panel * NR * kc, NR * kc);
        if (!transB)
        {
            // B stored k×n: a row segment of B is one contiguous NR-group.
            for (int kk = 0; kk < kc; kk++)
            {
                Span<T> group = dst.Slice(kk * NR, NR);
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

            int cIdx = 0;
            if (typeof(T) == typeof(float) && Avx.IsSupported && kc >= 8)
            {
                // Eight columns at a time, transposed in 8×8 register blocks.
                fixed (T* pb = b.AsSpan(), pd = dst)
                {
                    for (; cIdx + 8 <= cols; cIdx += 8)
                    {
                        float* src = (float*)pb + (col0 + cIdx) * k + k0;
                        int kk = 0;
                        for (; kk + 8 <= kc; kk += 8)
                        {
                            Transpose.Block8((float*)src + kk, k, (float*)pd + kk * NR + cIdx, NR);
                        }

                        for (; kk < kc; kk++)
                        {
                            for (int j = 0; j < 8; j++)
                            {
                                ((float*)pd)[kk * NR + cIdx + j] = src[j * k + kk];
                            }
                        }
                    }
                }
            }

            for (; cIdx < cols; cIdx++)
            {
                ReadOnlySpan<T> src = b.AsSpan((col0 + cIdx) * k + k0, kc);
                for (int kk = 0; kk < kc; kk++)
                {
                    dst[kk * NR + cIdx] = src[kk];
                }
            }
        }
    }

    // As above, with the rows of stored B produced by bRows instead of read from an array
    // (a convolution's column matrix, gathered from the image as it is packed).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackBPanel(
        bool transB,
        int k0,
        int kc,
        (int Start, int End) block,
        IRowSource<T> bRows,
        T[] packB,
        int panel)
    {
        int col0 = block.Start + panel * NR;
        int cols = Math.Min(NR, block.End - col0);
        Span<T> dst = packB.AsSpan(panel * NR * kc, NR * kc);
        if (cols < NR)
        {
            dst.Clear();
        }

        if (!transB)
        {
            bRows.PackRows(k0, kc, col0, cols, dst, NR);
        }
        else
        {
            bRows.PackColumns(col0, cols, k0, kc, dst, NR);
        }
    }

    private static void RunTiles(
        int m,
        int n,
        (int Start, int End) cols,
        int kc,
        bool overwrite,
        T[] packA,
        T[] packB,
        ArraySegment<T> c,
        int threads)
    {
        int mBlocks = (m + MC - 1) / MC;
        int nBlocks = (cols.End - cols.Start + NB - 1) / NB;
        int jobs = mBlocks * nBlocks;
        if (jobs == 1 || threads == 1)
        {
            for (int job = 0; job < jobs; job++)
            {
                RunBlock(job / nBlocks, job % nBlocks, m, n, cols, kc, overwrite, packA, packB, c);
            }

            return;
        }

        Parallelism.For(jobs, threads, job =>
            RunBlock(job / nBlocks, job % nBlocks, m, n, cols, kc, overwrite, packA, packB, c));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunBlock(
        int mBlock,
        int nBlock,
        int m,
        int n,
        (int Start, int End) cols,
        int kc,
        bool overwrite,
        T[] packA,
        T[] packB,
        ArraySegment<T> c)
    {
        int rowEnd = Math.Min(m, (mBlock + 1) * MC);
        int colStart = cols.Start + nBlock * NB;
        int colEnd = Math.Min(cols.End, colStart + NB);
        Span<T> edge = stackalloc T[MR * NR];
        fixed (T* pA = packA, pB = packB, pC = c.AsSpan())
        {
            for (int col0 = colStart; col0 < colEnd; col0 += NR)
            {
                T* panelB = pB + ((col0 - cols.Start) / NR) * NR * kc;
                int width = Math.Min(NR, colEnd - col0);
                for (int row0 = mBlock * MC; row0 < rowEnd; row0 += MR)
                {
                    T* panelA = pA + (row0 / MR) * MR * kc;
                    int rows = Math.Min(MR, m - row0);
                    if (rows == MR && width == NR)
                    {
                        Micro(panelA, panelB, kc, pC + row0 * n + col0, n, overwrite);
                    }
                    else
                    {
                        // Partial tile: compute into a scratch tile, then add the valid part.
                        edge.Clear();
                        fixed (T* pE = edge)
                        {
                            Micro(panelA, panelB, kc, pE, NR, false);
                        }

                        for (int r = 0; r < rows; r++)
                        {
                            T* dst = pC + (row0 + r) * n + col0;
                            for (int j = 0; j < width; j++)
                            {
                                dst[j] = overwrite ? edge[r * NR + j] : dst[j] + edge[r * NR + j];
                            }
                        }
                    }
                }
            }
        }
    }

    // C[0..MR, 0..NR] += Apanel · Bpanel over kc inner steps; ldc is C's row stride.
    // Hot methods skip tiered compilation (AggressiveOptimization): tier-0 code is ~10× slower
    // and a short run would spend its first hundreds of milliseconds there.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Micro(T* a, T* b, int kc, T* c, int ldc, bool overwrite)
    {
        if (Wide)
        {
            MicroAvx512(a, b, kc, c, ldc, overwrite);
        }
        else if (Fma.IsSupported)
        {
            MicroFma(a, b, kc, c, ldc, overwrite);
        }
        else
        {
            MicroScalar(a, b, kc, c, ldc, overwrite);
        }
    }

    // acc + x·y in one rounding.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> MulAdd(Vector256<T> x, Vector256<T> y, Vector256<T> acc)
    {
        if (typeof(T) == typeof(float))
        {
            return Fma.MultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
        }

        return Fma.MultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MicroFma(T* a, T* b, int kc, T* c, int ldc, bool overwrite)
    {
        int w = Vector256<T>.Count;
        Vector256<T> c00 = Vector256<T>.Zero, c01 = Vector256<T>.Zero;
        Vector256<T> c10 = Vector256<T>.Zero, c11 = Vector256<T>.Zero;
        Vector256<T> c20 = Vector256<T>.Zero, c21 = Vector256<T>.Zero;
        Vector256<T> c30 = Vector256<T>.Zero, c31 = Vector256<T>.Zero;
        Vector256<T> c40 = Vector256<T>.Zero, c41 = Vector256<T>.Zero;
        Vector256<T> c50 = Vector256<T>.Zero, c51 = Vector256<T>.Zero;
        int nr = 2 * w;
        for (int kk = 0; kk < kc; kk++)
        {
            Vector256<T> b0 = Vector256.Load(b);
            Vector256<T> b1 = Vector256.Load(b + w);
            Vector256<T> av = Vector256.Create(a[0]);
            c00 = MulAdd(av, b0, c00);
            c01 = MulAdd(av, b1, c01);
            av = Vector256.Create(a[1]);
            c10 = MulAdd(av, b0, c10);
            c11 = MulAdd(av, b1, c11);
            av = Vector256.Create(a[2]);
            c20 = MulAdd(av, b0, c20);
            c21 = MulAdd(av, b1, c21);
            av = Vector256.Create(a[3]);
            c30 = MulAdd(av, b0, c30);
            c31 = MulAdd(av, b1, c31);
            av = Vector256.Create(a[4]);
            c40 = MulAdd(av, b0, c40);
            c41 = MulAdd(av, b1, c41);
            av = Vector256.Create(a[5]);
            c50 = MulAdd(av, b0, c50);
            c51 = MulAdd(av, b1, c51);
            a += MR;
            b += nr;
        }

        AddRow(c, w, c00, c01, overwrite);
        AddRow(c + ldc, w, c10, c11, overwrite);
        AddRow(c + 2 * ldc, w, c20, c21, overwrite);
        AddRow(c + 3 * ldc, w, c30, c31, overwrite);
        AddRow(c + 4 * ldc, w, c40, c41, overwrite);
        AddRow(c + 5 * ldc, w, c50, c51, overwrite);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRow(T* c, int w, Vector256<T> lo, Vector256<T> hi, bool overwrite)
    {
        if (overwrite)
        {
            lo.Store(c);
            hi.Store(c + w);
            return;
        }

        (Vector256.Load(c) + lo).Store(c);
        (Vector256.Load(c + w) + hi).Store(c + w);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<T> MulAdd(Vector512<T> x, Vector512<T> y, Vector512<T> acc)
    {
        if (typeof(T) == typeof(float))
        {
            return Avx512F.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
        }

        return Avx512F.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
    }

    // The 6×NR tile of MicroFma in twelve 512-bit registers.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MicroAvx512(T* a, T* b, int kc, T* c, int ldc, bool overwrite)
    {
        int w = Vector512<T>.Count;
        Vector512<T> c00 = Vector512<T>.Zero, c01 = Vector512<T>.Zero;
        Vector512<T> c10 = Vector512<T>.Zero, c11 = Vector512<T>.Zero;
        Vector512<T> c20 = Vector512<T>.Zero, c21 = Vector512<T>.Zero;
        Vector512<T> c30 = Vector512<T>.Zero, c31 = Vector512<T>.Zero;
        Vector512<T> c40 = Vector512<T>.Zero, c41 = Vector512<T>.Zero;
        Vector512<T> c50 = Vector512<T>.Zero, c51 = Vector512<T>.Zero;
        int nr = 2 * w;
        for (int kk = 0; kk < kc; kk++)
        {
            Vector512<T> b0 = Vector512.Load(b);
            Vector512<T> b1 = Vector512.Load(b + w);
            Vector512<T> av = Vector512.Create(a[0]);
            c00 = MulAdd(av, b0, c00);
            c01 = MulAdd(av, b1, c01);
            av = Vector512.Create(a[1]);
            c10 = MulAdd(av, b0, c10);
            c11 = MulAdd(av, b1, c11);
            av = Vector512.Create(a[2]);
            c20 = MulAdd(av, b0, c20);
            c21 = MulAdd(av, b1, c21);
            av = Vector512.Create(a[3]);
            c30 = MulAdd(av, b0, c30);
            c31 = MulAdd(av, b1, c31);
            av = Vector512.Create(a[4]);
            c40 = MulAdd(av, b0, c40);
            c41 = MulAdd(av, b1, c41);
            av = Vector512.Create(a[5]);
            c50 = MulAdd(av, b0, c50);
            c51 = MulAdd(av, b1, c51);
            a += MR;
            b += nr;
        }

        AddRow(c, w, c00, c01, overwrite);
        AddRow(c + ldc, w, c10, c11, overwrite);
        AddRow(c + 2 * ldc, w, c20, c21, overwrite);
        AddRow(c + 3 * ldc, w, c30, c31, overwrite);
        AddRow(c + 4 * ldc, w, c40, c41, overwrite);
        AddRow(c + 5 * ldc, w, c50, c51, overwrite);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRow(T* c, int w, Vector512<T> lo, Vector512<T> hi, bool overwrite)
    {
        if (overwrite)
        {
            lo.Store(c);
            hi.Store(c + w);
            return;
        }

        (Vector512.Load(c) + lo).Store(c);
        (Vector512.Load(c + w) + hi).Store(c + w);
    }

    // Portable path for processors without AVX2/FMA: same tile, plain loops.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MicroScalar(T* a, T* b, int kc, T* c, int ldc, bool overwrite)
    {
        int nr = NR;
        T* acc = stackalloc T[MR * nr];
        for (int i = 0; i < MR * nr; i++)
        {
            acc[i] = T.Zero;
        }

        for (int kk = 0; kk < kc; kk++)
        {
            for (int r = 0; r < MR; r++)
            {
                T av = a[r];
                for (int j = 0; j < nr; j++)
                {
                    acc[r * nr + j] += av * b[j];
                }
            }

            a += MR;
            b += nr;
        }

        for (int r = 0; r < MR; r++)
        {
            for (int j = 0; j < nr; j++)
            {
                c[r * ldc + j] = overwrite ? acc[r * nr + j] : c[r * ldc + j] + acc[r * nr + j];
            }
        }
    }
}
