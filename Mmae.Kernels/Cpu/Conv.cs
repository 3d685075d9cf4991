using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Mmae.Kernels.Cpu;

// Convolution lowering (see ConvGeometry): x (N, C, H, W); cols (K, L), K = C·k·k rows indexed
// (c, ky, kx), L = N·OH·OW columns indexed (n, oy, ox); iy = oy·s − p + ky, ix = ox·s − p + kx.
// Im2Col splits over (row, sample) pairs, each writing one contiguous OH·OW run of cols; Col2Im
// over (sample, channel) planes, each gathering its k² rows in a fixed order, so no two threads
// write one element and results do not depend on the thread count.
public sealed partial class CpuBackend : IColumnGemm
{
    // Aim for at least this many elements per task, so hand-offs stay a small cost.
    private const int PlaneChunk = 1 << 13;

    // Column-matrix elements GemmCol2Im makes at a time (8 MB).
    private const int ScatterChunk = 1 << 21;

    /// <inheritdoc/>
    public void Im2Col(DeviceBuffer x, ConvGeometry g, DeviceBuffer cols)
    {
        float[] px = F(x), pc = F(cols);
        Debug.Assert(px.Length >= g.InputLength && pc.Length >= g.ColumnRows * g.ColumnCols);
        int items = g.ColumnRows * g.Batch;
        ForChunks(items, Math.Max(1, PlaneChunk / Math.Max(g.OutPlane, 1)), (s, e) =>
        {
            for (int item = s; item < e; item++)
            {
                int row = item / g.Batch, n = item % g.Batch;
                int c = row / (g.Kernel * g.Kernel);
                int ky = row / g.Kernel % g.Kernel, kx = row % g.Kernel;
                ReadOnlySpan<float> plane = px.AsSpan((n * g.Channels + c) * g.InPlane, g.InPlane);
                Span<float> dst = pc.AsSpan(row * g.ColumnCols + n * g.OutPlane, g.OutPlane);
                GatherWindowRow(plane, g, ky, kx, dst);
            }
        });
    }

    /// <inheritdoc/>
    public void GemmColumns(
        bool transposeColumns,
        int m,
        int n,
        int k,
        float alpha,
        DeviceBuffer a,
        DeviceBuffer image,
        ConvGeometry g,
        float beta,
        DeviceBuffer c)
    {
        float[] pi = F(image);
        if (pi.Length < g.InputLength
            || (transposeColumns ? (k, n) : (n, k)) != (g.ColumnCols, g.ColumnRows))
        {
            throw new ArgumentException(
                $"GemmColumns: a {(transposeColumns ? "transposed " : "")}column matrix of {g} is not "
                + $"{k}×{n}, or the image holds {pi.Length} values.");
        }

        float[] phases = ArrayPool<float>.Shared.Rent(ColumnMatrix.PhaseLength(g));
        try
        {
            Gemm<float>.RunSlices(false, transposeColumns, m, n, k, alpha, F(a), default, beta, F(c), Threads,
                new ColumnMatrix(pi, g, phases, Threads));
        }
        finally
        {
            ArrayPool<float>.Shared.Return(phases);
        }
    }

    /// <inheritdoc/>
    public void Col2Im(DeviceBuffer cols, ConvGeometry g, DeviceBuffer x)
    {
        float[] pc = F(cols), px = F(x);
        Debug.Assert(px.Length >= g.InputLength && pc.Length >= g.ColumnRows * g.ColumnCols);
        Col2Im(pc, g, px, 0);
    }

    /// <inheritdoc/>
    /// <remarks>A few samples at a time: their slice of the column matrix (up to 8 MB) is
    /// multiplied out and scattered while it is still in cache, and y is read in place.</remarks>
    public void GemmCol2Im(DeviceBuffer w, int channels, DeviceBuffer y, ConvGeometry g, DeviceBuffer x)
    {
        float[] pw = F(w), py = F(y), px = F(x);
        int kk = g.ColumnRows, plane = g.OutPlane;
        if (pw.Length < channels * kk || py.Length < channels * g.ColumnCols || px.Length < g.InputLength)
        {
            throw new ArgumentException(
                $"GemmCol2Im: w ({pw.Length}), y ({py.Length}) or x ({px.Length}) is too short for "
                + $"{channels} channels under {g}.");
        }

        // Small planes make short runs, which pack slower than one axis swap of y and one GEMM.
        int perChunk = plane < 32
            ? g.Batch
            : Math.Clamp(ScatterChunk / Math.Max(1, kk * plane), 1, Math.Max(1, g.Batch));
        float[] cols = ArrayPool<float>.Shared.Rent(kk * perChunk * plane);
        float[]? yT = plane < 32 ? ArrayPool<float>.Shared.Rent(channels * g.ColumnCols) : null;
        try
        {
            if (yT is not null)
            {
                SwapLeadingAxes(py, g.Batch, channels, plane, yT);
                Gemm<float>.Run(true, false, kk, g.ColumnCols, channels, 1f, pw, yT, 0f, cols, Threads);
                Col2Im(cols, g, px, 0);
                return;
            }

            for (int n0 = 0; n0 < g.Batch; n0 += perChunk)
            {
                var chunk = g with { Batch = Math.Min(perChunk, g.Batch - n0) };
                var rows = new ChannelRows(py, g.Batch, channels, plane, n0 * plane);
                Gemm<float>.RunSlices(true, false, kk, chunk.ColumnCols, channels, 1f, pw, default, 0f, cols,
                    Threads, rows);
                Col2Im(cols, chunk, px, n0 * g.Channels * g.InPlane);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(cols);
            if (yT is not null)
            {
                ArrayPool<float>.Shared.Return(yT);
            }
        }
    }

    // x[offset ..] = col2im(cols) for the samples of g.
    private void Col2Im(float[] pc, ConvGeometry g, float[] px, int offset)
    {
        int k2 = g.Kernel * g.Kernel;
        ForChunks(g.Batch * g.Channels, Math.Max(1, PlaneChunk / Math.Max(g.OutPlane * k2, 1)), (s, e) =>
        {
            for (int item = s; item < e; item++)
            {
                int n = item / g.Channels, c = item % g.Channels;
                Span<float> plane = px.AsSpan(offset + item * g.InPlane, g.InPlane);
                plane.Clear();
                for (int r = 0; r < k2; r++)
                {
                    int row = c * k2 + r;
                    ReadOnlySpan<float> src = pc.AsSpan(row * g.ColumnCols + n * g.OutPlane, g.OutPlane);
                    ScatterWindowRow(src, g, r / g.Kernel, r % g.Kernel, plane);
                }
            }
        });
    }

    /// <inheritdoc/>
    public void SwapLeadingAxes(DeviceBuffer src, int rows, int cols, int inner, DeviceBuffer dst)
    {
        float[] ps = F(src), pd = F(dst);
        Debug.Assert(ps.Length >= rows * cols * inner && pd.Length >= rows * cols * inner);
        SwapLeadingAxes(ps, rows, cols, inner, pd);
    }

    private void SwapLeadingAxes(float[] ps, int rows, int cols, int inner, float[] pd) =>
        ForChunks(rows * cols, Math.Max(1, ElementChunk / Math.Max(inner, 1)), (s, e) =>
        {
            for (int ij = s; ij < e; ij++)
            {
                int i = ij / cols, j = ij % cols;
                ps.AsSpan(ij * inner, inner).CopyTo(pd.AsSpan((j * rows + i) * inner, inner));
            }
        });

    /// <inheritdoc/>
    public void AddChannelBias(DeviceBuffer x, DeviceBuffer bias, int batch, int channels, int spatial)
    {
        float[] px = F(x), pb = F(bias);
        Debug.Assert(px.Length >= batch * channels * spatial && pb.Length >= channels);
        ForChunks(batch * channels, Math.Max(1, ElementChunk / Math.Max(spatial, 1)), (s, e) =>
        {
            for (int nc = s; nc < e; nc++)
            {
                PlaneKernels.AddScalar(pb[nc % channels], px.AsSpan(nc * spatial, spatial));
            }
        });
    }

    /// <inheritdoc/>
    /// <remarks>Each sample's run of a channel is summed in float lanes, the runs in double in
    /// sample order.</remarks>
    public void ChannelSums(DeviceBuffer x, int batch, int channels, int spatial, DeviceBuffer dst, bool accumulate)
    {
        float[] px = F(x), pd = F(dst);
        Debug.Assert(px.Length >= batch * channels * spatial && pd.Length >= channels);
        ForChunks(channels, 1, (s, e) =>
        {
            for (int c = s; c < e; c++)
            {
                double sum = 0;
                for (int n = 0; n < batch; n++)
                {
                    sum += PlaneKernels.Sum(px.AsSpan((n * channels + c) * spatial, spatial));
                }

                pd[c] = accumulate ? (float)(pd[c] + sum) : (float)sum;
            }
        });
    }

    // dst[oy·OW + ox] = plane[iy, ix] (0 in the padding) for one (ky, kx) of the window.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GatherWindowRow(ReadOnlySpan<float> plane, ConvGeometry g, int ky, int kx, Span<float> dst)
    {
        (int ox0, int ox1) = InsideRange(g.OutWidth, g.Width, g.Stride, g.Padding, kx);
        int s = g.Stride;
        for (int oy = 0; oy < g.OutHeight; oy++)
        {
            Span<float> d = dst.Slice(oy * g.OutWidth, g.OutWidth);
            int iy = oy * s - g.Padding + ky;
            if ((uint)iy >= (uint)g.Height || ox0 >= ox1)
            {
                d.Clear();
                continue;
            }

            d[..ox0].Clear();
            d[ox1..].Clear();
            ReadOnlySpan<float> line = plane.Slice(iy * g.Width, g.Width);
            int ix0 = ox0 * s - g.Padding + kx;
            if (s == 1)
            {
                line.Slice(ix0, ox1 - ox0).CopyTo(d[ox0..ox1]);
            }
            else
            {
                StridedCopy(line, ix0, s, d, ox0, ox1);
            }
        }
    }

    // plane[iy, ix] += src[oy·OW + ox] for one (ky, kx): the adjoint of GatherWindowRow.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScatterWindowRow(ReadOnlySpan<float> src, ConvGeometry g, int ky, int kx, Span<float> plane)
    {
        (int ox0, int ox1) = InsideRange(g.OutWidth, g.Width, g.Stride, g.Padding, kx);
        if (ox0 >= ox1)
        {
            return;
        }

        int s = g.Stride;
        for (int oy = 0; oy < g.OutHeight; oy++)
        {
            int iy = oy * s - g.Padding + ky;
            if ((uint)iy >= (uint)g.Height)
            {
                continue;
            }

            ReadOnlySpan<float> sr = src.Slice(oy * g.OutWidth, g.OutWidth);
            Span<float> line = plane.Slice(iy * g.Width, g.Width);
            int ix0 = ox0 * s - g.Padding + kx;
            if (s == 1)
            {
                Elementwise.AddInto(sr[ox0..ox1], line.Slice(ix0, ox1 - ox0));
            }
            else
            {
                StridedAdd(sr, ox0, ox1, line, ix0, s);
            }
        }
    }

    // d[ox] = line[ix0 + (ox − ox0)·s] for ox in [ox0, ox1). Stride 2 (every downsampling layer)
    // takes the even lanes of 16 loaded values, eight outputs per step; where those 16 would
    // run past the line, the odd lanes of the 16 starting one earlier; a last partial step
    // redoes the final eight outputs. Only runs of eight or more on lines of 16 or more do this.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void StridedCopy(ReadOnlySpan<float> line, int ix0, int s, Span<float> d, int ox0, int ox1)
    {
        Debug.Assert(ix0 >= 0 && ix0 + (ox1 - ox0 - 1) * s < line.Length);
        ref float src = ref MemoryMarshal.GetReference(line);
        ref float dst = ref MemoryMarshal.GetReference(d);
        int count = ox1 - ox0;
        if (s == 2 && Avx2.IsSupported && count >= 8 && line.Length >= 16)
        {
            for (int j = 0; j < count; j += 8)
            {
                int jj = Math.Min(j, count - 8);
                int ix = ix0 + 2 * jj;
                Vector256<float> v;
                if (ix + 16 <= line.Length)
                {
                    Vector256<float> a = Vector256.LoadUnsafe(ref src, (nuint)ix);
                    Vector256<float> b = Vector256.LoadUnsafe(ref src, (nuint)(ix + 8));
                    v = Avx.Shuffle(a, b, 0b10_00_10_00);
                }
                else
                {
                    Vector256<float> a = Vector256.LoadUnsafe(ref src, (nuint)(ix - 1));
                    Vector256<float> b = Vector256.LoadUnsafe(ref src, (nuint)(ix + 7));
                    v = Avx.Shuffle(a, b, 0b11_01_11_01);
                }

                Avx2.Permute4x64(v.AsDouble(), 0b11_01_10_00).AsSingle().StoreUnsafe(ref dst, (nuint)(ox0 + jj));
            }

            return;
        }

        for (int ox = ox0, ix = ix0; ox < ox1; ox++, ix += s)
        {
            Unsafe.Add(ref dst, ox) = Unsafe.Add(ref src, ix);
        }
    }

    // line[ix0 + (ox − ox0)·s] += sr[ox] for ox in [ox0, ox1): the adjoint of StridedCopy. With
    // stride 2, eight sources are interleaved with zeros and added to 16 consecutive values.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void StridedAdd(ReadOnlySpan<float> sr, int ox0, int ox1, Span<float> line, int ix0, int s)
    {
        Debug.Assert(ix0 >= 0 && ix0 + (ox1 - ox0 - 1) * s < line.Length);
        ref float src = ref MemoryMarshal.GetReference(sr);
        ref float dst = ref MemoryMarshal.GetReference(line);
        int ox = ox0, ix = ix0;
        if (s == 2 && Avx.IsSupported)
        {
            for (; ox + 8 <= ox1 && ix + 16 <= line.Length; ox += 8, ix += 16)
            {
                Vector256<float> v = Vector256.LoadUnsafe(ref src, (nuint)ox);
                Vector256<float> lo = Avx.UnpackLow(v, Vector256<float>.Zero);
                Vector256<float> hi = Avx.UnpackHigh(v, Vector256<float>.Zero);
                ref float at = ref Unsafe.Add(ref dst, ix);
                (Vector256.LoadUnsafe(ref at) + Avx.Permute2x128(lo, hi, 0x20)).StoreUnsafe(ref at);
                (Vector256.LoadUnsafe(ref at, 8) + Avx.Permute2x128(lo, hi, 0x31)).StoreUnsafe(ref at, 8);
            }
        }

        for (; ox < ox1; ox++, ix += s)
        {
            Unsafe.Add(ref dst, ix) += Unsafe.Add(ref src, ox);
        }
    }

    // The window positions ox in [ox0, ox1) whose column ix = ox·s − p + kx lies inside [0, W).
    internal static (int Start, int End) InsideRange(int outWidth, int width, int stride, int padding, int kx)
    {
        int offset = kx - padding;
        int start = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
        int end = width - 1 - offset < 0 ? 0 : Math.Min(outWidth, (width - 1 - offset) / stride + 1);
        return (Math.Min(start, end), end);
    }
}
