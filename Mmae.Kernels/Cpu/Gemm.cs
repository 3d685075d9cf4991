using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Numerics;
using System.Runtime.Intrinsics.X86;

namespace Mmae.Kernels.Cpu;

// C (m×n) = alpha · op(A) (m×k) · op(B) (k×n) + beta · C, row-major.
// Blocked as in the classic packed GEMM: for each kc-slice of the inner dimension, alpha·A is
// packed into MR-tall row panels and B into NR-wide column panels, both laid out so the
// micro-kernel streams them with unit stride. The threads share A's packed slice and take
// NB-column blocks of C (split by rows too when there are few blocks); each packs its block of
// B itself, so the packed block (kc·NB values, 256 KB) is in that core's cache while MC-row
// blocks of A pass over it, and a slice costs two fork-joins whatever the width of C. An
// MR×NR tile of C lives in 12 vector registers (AVX2 or AVX-512) for the whole slice. Each
// tile is summed by one thread in a fixed k order, so the result does not depend on the
// thread count.
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
    private const int ParallelPackA = 1 << 15;
    private const int SplitK = 4096;
    private const int SplitKMaxTile = 1 << 16;

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

        if (threads > 1 && m * n <= SplitKMaxTile && k >= 2 * SplitK && alpha != T.Zero)
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

        // Threads claim jobs as they finish, so about eight per thread keep them evenly busy:
        // narrower column blocks where C is narrow, and where even NR-wide blocks are too few,
        // rows split as well (each part packs its block's B panels itself).
        int wanted = 8 * threads;
        int width = Math.Clamp(((n + wanted - 1) / wanted + NR - 1) / NR * NR, NR, NB);
        int nBlocks = (n + width - 1) / width;
        int parts = 1;
        if (threads > 1 && nBlocks < 2 * threads)
        {
            parts = Math.Clamp((wanted + nBlocks - 1) / nBlocks, 1, (mPanels + MC / MR - 1) / (MC / MR));
        }

        int panelsPerPart = (mPanels + parts - 1) / parts;
        parts = (mPanels + panelsPerPart - 1) / panelsPerPart;
        int kcMax = Math.Min(KC, kRange.End - kRange.Start);
        T[] packA = ArrayPool<T>.Shared.Rent(mPanels * MR * kcMax);
        try
        {
            // Each C entry sums its k-slices in order whatever the blocking, so the result
            // does not depend on the thread count.
            for (int k0 = kRange.Start; k0 < kRange.End; k0 += KC)
            {
                int kc = Math.Min(KC, kRange.End - k0);
                bool first = overwrite && k0 == kRange.Start;
                int packThreads = mPanels * MR * kc >= ParallelPackA ? threads : 1;
                Parallelism.For(mPanels, packThreads, panel =>
                    PackAPanel(transA, m, k, k0, kc, alpha, a, packA, panel));
                Parallelism.For(nBlocks * parts, threads, job =>
                {
                    int col0 = job / parts * width;
                    RunJob((col0, Math.Min(n, col0 + width)), job % parts * panelsPerPart * MR, panelsPerPart * MR,
                        transB, m, n, k, k0, kc, b, bRows, packA, c, first);
                });
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(packA);
        }
    }

    // One column block of C (up to NB columns) for rows rowStart .. rowStart + rowCount − 1: packs
    // the block's B panels where this thread then uses them (the packed block, kc·NB values,
    // stays in this core's cache) and runs the tiles MC rows at a time.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunJob(
        (int Start, int End) block,
        int rowStart,
        int rowCount,
        bool transB,
        int m,
        int n,
        int k,
        int k0,
        int kc,
        ArraySegment<T> b,
        IRowSource<T>? bRows,
        T[] packA,
        ArraySegment<T> c,
        bool overwrite)
    {
        int panels = (block.End - block.Start + NR - 1) / NR;
        T[] packB = ArrayPool<T>.Shared.Rent(panels * NR * kc);
        try
        {
            if (!transB)
            {
                // Whole rows of the block at a time: long reads instead of one panel's width.
                PackBBlock(n, k0, kc, block, b, bRows, packB);
            }
            else
            {
                for (int panel = 0; panel < panels; panel++)
                {
                    if (bRows is null)
                    {
                        PackTransposedBPanel(k, k0, kc, block, b, packB, panel);
                    }
                    else
                    {
                        PackTransposedBPanel(k0, kc, block, bRows, packB, panel);
                    }
                }
            }

            int rowEnd = Math.Min(m, rowStart + rowCount);
            for (int r0 = rowStart; r0 < rowEnd; r0 += MC)
            {
                RunBlock((r0, Math.Min(rowEnd, r0 + MC)), m, n, block, kc, overwrite, packA, packB, c);
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(packB);
        }
    }

    // A small C with a long inner dimension (a weight gradient summed over every position of
    // a batch: 32×16×65536 and 64×512×16384 in the dSprites network) gives the threads few
    // tiles and many thin k-slices, each with its own fork-join: its k range is cut into pieces
    // of SplitK instead, each computed by one thread into its own copy of C, and the copies are
    // added in piece order. The pieces depend only on k, so the result does not depend on the
    // thread count (its rounding differs from the unsplit sum's).
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
    // indices k0 .. k0+kc−1, stored as kc groups of NR values (zero-padded past column e). This
    // one packs transposed B (stored n×k); PackBBlock packs untransposed B.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackTransposedBPanel(
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

    // The panels of a whole block of untransposed B (k×n, or rows from bRows), row by row.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackBBlock(
        int n,
        int k0,
        int kc,
        (int Start, int End) block,
        ArraySegment<T> b,
        IRowSource<T>? bRows,
        T[] packB)
    {
        int count = block.End - block.Start, panels = (count + NR - 1) / NR;
        int tail = count - (panels - 1) * NR;
        Span<T> last = packB.AsSpan((panels - 1) * NR * kc, NR * kc);
        if (tail < NR)
        {
            last.Clear();
        }

        if (bRows is not null)
        {
            bRows.PackRows(k0, kc, block.Start, count, packB, NR);
            return;
        }

        int w = Vector256<T>.Count;
        fixed (T* pb = b.AsSpan(), pd = packB)
        {
            for (int kk = 0; kk < kc; kk++)
            {
                T* src = pb + (k0 + kk) * n + block.Start;
                for (int panel = 0; panel < panels; panel++, src += NR)
                {
                    T* group = pd + panel * NR * kc + kk * NR;
                    int cols = panel < panels - 1 ? NR : tail, j = 0;
                    for (; j + w <= cols; j += w)
                    {
                        Vector256.Store(Vector256.Load(src + j), group + j);
                    }

                    for (; j < cols; j++)
                    {
                        group[j] = src[j];
                    }
                }
            }
        }
    }

    // As above, with the rows of stored B produced by bRows instead of read from an array
    // (a convolution's column matrix, gathered from the image as it is packed).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackTransposedBPanel(
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

        bRows.PackColumns(col0, cols, k0, kc, dst, NR);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunBlock(
        (int Start, int End) rowRange,
        int m,
        int n,
        (int Start, int End) block,
        int kc,
        bool overwrite,
        T[] packA,
        T[] packB,
        ArraySegment<T> c)
    {
        int colStart = block.Start, colEnd = block.End;
        Span<T> edge = stackalloc T[MR * NR];
        fixed (T* pA = packA, pB = packB, pC = c.AsSpan())
        {
            for (int col0 = colStart; col0 < colEnd; col0 += NR)
            {
                T* panelB = pB + ((col0 - block.Start) / NR) * NR * kc;
                int width = Math.Min(NR, colEnd - col0);
                for (int row0 = rowRange.Start; row0 < rowRange.End; row0 += MR)
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
