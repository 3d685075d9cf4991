using ILGPU;
using ILGPU.Runtime;

namespace Mmae.Kernels.Gpu;

// Convolution lowering (see ConvGeometry): x (N, C, H, W); cols (K, L), K = C·k·k rows indexed
// (c, ky, kx), L = N·OH·OW columns indexed (n, oy, ox); iy = oy·s − p + ky, ix = ox·s − p + kx.
// Im2Col runs one thread per cols entry. Col2Im runs one thread per input element, which
// gathers the k² entries that read it (those with (iy + p − ky) and (ix + p − kx) divisible by
// s), so it needs no atomics and adds in a fixed order. Channel sums run one group per channel,
// each thread striding over the channel's N·S elements, then GroupSum folds the group.
public sealed partial class GpuBackend
{
    private Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ConvGeometry>
        _im2col = null!;
    private Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ConvGeometry>
        _col2im = null!;
    private Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int, int, int>
        _swapLeadingAxes = null!;
    private Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int, int>
        _addChannelBias = null!;
    private Action<AcceleratorStream, KernelConfig, ChannelArgs> _channelSums = null!;

    /// <inheritdoc/>
    public void Im2Col(DeviceBuffer x, ConvGeometry g, DeviceBuffer cols) =>
        Launch(g.ColumnRows * g.ColumnCols, _im2col, V(x), V(cols), g);

    /// <inheritdoc/>
    public void Col2Im(DeviceBuffer cols, ConvGeometry g, DeviceBuffer x) =>
        Launch(g.InputLength, _col2im, V(cols), V(x), g);

    /// <inheritdoc/>
    public void SwapLeadingAxes(DeviceBuffer src, int rows, int cols, int inner, DeviceBuffer dst) =>
        Launch(rows * cols * inner, _swapLeadingAxes, V(src), V(dst), rows, cols, inner);

    /// <inheritdoc/>
    public void AddChannelBias(DeviceBuffer x, DeviceBuffer bias, int batch, int channels, int spatial) =>
        Launch(batch * channels * spatial, _addChannelBias, V(x), V(bias), channels, spatial);

    /// <inheritdoc/>
    public void ChannelSums(DeviceBuffer x, int batch, int channels, int spatial, DeviceBuffer dst, bool accumulate)
    {
        if (channels > 0)
        {
            var args = new ChannelArgs
            {
                X = V(x), Dst = V(dst), Batch = batch, Channels = channels, Spatial = spatial,
                Accumulate = accumulate ? 1 : 0,
            };
            _channelSums(_stream, Groups(channels), args);
        }
    }

    private static GpuKernel[] ConvKernels =>
    [
        Define(Im2ColKernel, static b => ref b._im2col),
        Define(Col2ImKernel, static b => ref b._col2im),
        Define(SwapLeadingAxesKernel, static b => ref b._swapLeadingAxes),
        Define(AddChannelBiasKernel, static b => ref b._addChannelBias),
        Define(ChannelSumsKernel, static b => ref b._channelSums),
        .. BatchNorm2dKernels,
        .. ConvElementwiseKernels,
    ];

    /// <summary>The views and sizes of a per-channel reduction over (N, C, S).</summary>
    internal struct ChannelArgs
    {
        public ArrayView<float> X, Dst;
        public int Batch, Channels, Spatial, Accumulate;
    }

    // i = row·L + col: row = (c, ky, kx), col = (n, oy, ox).
    internal static void Im2ColKernel(Index1D i, ArrayView<float> x, ArrayView<float> cols, ConvGeometry g)
    {
        int l = g.Batch * g.OutHeight * g.OutWidth;
        int row = i / l, col = i % l;
        int kx = row % g.Kernel, ky = row / g.Kernel % g.Kernel, c = row / (g.Kernel * g.Kernel);
        int ox = col % g.OutWidth, oy = col / g.OutWidth % g.OutHeight, n = col / (g.OutWidth * g.OutHeight);
        int iy = oy * g.Stride - g.Padding + ky, ix = ox * g.Stride - g.Padding + kx;
        bool inside = iy >= 0 && iy < g.Height && ix >= 0 && ix < g.Width;
        cols[i] = inside ? x[((n * g.Channels + c) * g.Height + iy) * g.Width + ix] : 0f;
    }

    // i = ((n·C + c)·H + iy)·W + ix gathers every (ky, kx, oy, ox) with oy·s − p + ky = iy.
    internal static void Col2ImKernel(Index1D i, ArrayView<float> cols, ArrayView<float> x, ConvGeometry g)
    {
        int ix = i % g.Width, iy = i / g.Width % g.Height;
        int c = i / (g.Width * g.Height) % g.Channels, n = i / (g.Width * g.Height * g.Channels);
        int l = g.Batch * g.OutHeight * g.OutWidth;
        float sum = 0f;
        for (int ky = 0; ky < g.Kernel; ky++)
        {
            int ty = iy + g.Padding - ky;
            if (ty < 0 || ty % g.Stride != 0 || ty / g.Stride >= g.OutHeight)
            {
                continue;
            }

            for (int kx = 0; kx < g.Kernel; kx++)
            {
                int tx = ix + g.Padding - kx;
                if (tx < 0 || tx % g.Stride != 0 || tx / g.Stride >= g.OutWidth)
                {
                    continue;
                }

                int row = (c * g.Kernel + ky) * g.Kernel + kx;
                int col = (n * g.OutHeight + ty / g.Stride) * g.OutWidth + tx / g.Stride;
                sum += cols[row * l + col];
            }
        }

        x[i] = sum;
    }

    // i = (r·cols + j)·inner + q in src; dst[(j·rows + r)·inner + q] = src[i].
    internal static void SwapLeadingAxesKernel(
        Index1D i,
        ArrayView<float> src,
        ArrayView<float> dst,
        int rows,
        int cols,
        int inner)
    {
        int q = i % inner, rj = i / inner;
        int r = rj / cols, j = rj % cols;
        dst[(j * rows + r) * inner + q] = src[i];
    }

    internal static void AddChannelBiasKernel(
        Index1D i,
        ArrayView<float> x,
        ArrayView<float> bias,
        int channels,
        int spatial) =>
        x[i] += bias[i / spatial % channels];

    // Group c: dst[c] (+)= Σ over the channel's elements, thread t taking every GroupSize-th.
    internal static void ChannelSumsKernel(ChannelArgs a)
    {
        var shared = SharedMemory.Allocate<double>(GroupSize);
        int c = Grid.IdxX;
        double sum = 0;
        int count = a.Batch * a.Spatial;
        for (int t = Group.IdxX; t < count; t += GroupSize)
        {
            sum += a.X[ChannelElement(t, c, a.Channels, a.Spatial)];
        }

        double total = GroupSum(sum, shared);
        if (Group.IdxX == 0)
        {
            a.Dst[c] = a.Accumulate != 0 ? (float)(a.Dst[c] + total) : (float)total;
        }
    }

    // The t-th element of channel c in (N, C, S) order: n = t / S, q = t % S.
    internal static int ChannelElement(int t, int c, int channels, int spatial) =>
        (t / spatial * channels + c) * spatial + t % spatial;
}
