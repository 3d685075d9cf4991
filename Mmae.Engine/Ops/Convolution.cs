using Mmae.Kernels;

namespace Mmae.Engine;

// N = batch, C = input channels, O = output channels, k = kernel side, s = stride, p = padding.
// Conv2d: x (N, C, H, W), w (O, C, k, k), b (O), y (N, O, OH, OW).
// ConvTranspose2d: x (N, C, H, W), w (C, O, k, k) as PyTorch stores it, y (N, O, OH, OW) with
// OH = (H − 1)·s − 2p + k + outputPadding.
// Both lower onto one Gemm over the whole batch through the column matrix cols (K, L) of
// ConvGeometry (K = channels·k², L = N·positions): a convolution is w·im2col(x), and a
// transposed convolution, its adjoint, is col2im(wᵀ·x). Backends with IColumnGemm (the CPU)
// multiply by im2col(x) while gathering it, without storing the matrix. Gemm writes channel-major (O, N, ·)
// results, so one axis swap turns them into NCHW and back.
public static partial class Ops
{
    /// <summary>
    /// 2-D convolution (PyTorch's cross-correlation): y[n, o] = b[o] + Σ_c w[o, c] ⋆ x[n, c],
    /// with a square window, one stride and zero padding on every side.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes do not chain, or the padded input is smaller
    /// than the window.</exception>
    public static Tensor Conv2d(Tensor x, Tensor w, Tensor? b, int stride, int padding)
    {
        const string op = nameof(Conv2d);
        (int n, int c, int h, int wd) = Image(op, x);
        CheckWeight(op, x, w, b, c, "(out, in, k, k)");
        int o = w.Shape[0], k = w.Shape[2];
        int oh = ConvGeometry.OutputSize(h, k, stride, padding);
        int ow = ConvGeometry.OutputSize(wd, k, stride, padding);
        if (oh < 1 || ow < 1 || stride < 1 || padding < 0)
        {
            throw new ArgumentException(
                $"{op}: a {k}×{k} window with stride {stride}, padding {padding} does not fit "
                + $"input {ShapeUtil.Format(x.Shape)}.");
        }

        var g = new ConvGeometry(n, c, h, wd, k, stride, padding, oh, ow);
        var be = x.Backend;
        int kk = g.ColumnRows, l = g.ColumnCols;
        // Backends that multiply by the column matrix as they gather it never store it;
        // the others keep it from here for the weight gradient.
        DeviceBuffer? cols = ColumnsUnlessImplicit(be, x.Data, g);
        var yT = Workspace.Rent(be, o * l);
        GemmColumns(be, false, o, l, kk, w.Data, x.Data, g, cols, 0f, yT);
        var y = Tensor.Empty(be, n, o, oh, ow);
        be.SwapLeadingAxes(yT, o, n, g.OutPlane, y.Data);
        if (b is not null)
        {
            be.AddChannelBias(y.Data, b.Data, n, o, g.OutPlane);
        }

        Tensor[] inputs = b is null ? [x, w] : [x, w, b];
        return Autograd.Record(y, op, inputs, dy =>
        {
            // dyT = dy as (O, L); dw = dyT·colsᵀ; dx = col2im(wᵀ·dyT); db = Σ_{n,q} dy.
            var dyT = Workspace.Rent(be, o * l);
            be.SwapLeadingAxes(dy, n, o, g.OutPlane, dyT);
            if (w.RequiresGrad)
            {
                var dw = Autograd.GradTarget(w, out float beta);
                GemmColumns(be, true, o, kk, l, dyT, x.Data, g, cols, beta, dw);
            }

            if (x.RequiresGrad)
            {
                var dx = Workspace.Rent(be, x.Length);
                GemmCol2Im(be, w.Data, o, dy, dyT, g, dx);
                Autograd.Accumulate(x, dx, owned: true);
            }

            BiasGradient(b, dy, n, o, g.OutPlane);
        });
    }

    /// <summary>
    /// 2-D transposed convolution, the adjoint of <see cref="Conv2d"/> in its input:
    /// y[n, o] = b[o] + Σ_c scatter of x[n, c] through w[c, o], output side
    /// (H − 1)·s − 2p + k + outputPadding.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes do not chain, outputPadding is not below
    /// the stride, or the output would be empty.</exception>
    public static Tensor ConvTranspose2d(Tensor x, Tensor w, Tensor? b, int stride, int padding, int outputPadding)
    {
        const string op = nameof(ConvTranspose2d);
        (int n, int c, int h, int wd) = Image(op, x);
        CheckWeight(op, x, w, b, c, "(in, out, k, k)");
        int o = w.Shape[1], k = w.Shape[2];
        int oh = (h - 1) * stride - 2 * padding + k + outputPadding;
        int ow = (wd - 1) * stride - 2 * padding + k + outputPadding;
        if (stride < 1 || padding < 0 || outputPadding < 0 || outputPadding >= stride || oh < 1 || ow < 1)
        {
            throw new ArgumentException(
                $"{op}: stride {stride}, padding {padding}, output padding {outputPadding} with a "
                + $"{k}×{k} window do not fit input {ShapeUtil.Format(x.Shape)}; output padding "
                + "must be below the stride and the output non-empty.");
        }

        // The convolution this is the adjoint of maps (N, O, OH, OW) back to (N, C, H, W).
        var g = new ConvGeometry(n, o, oh, ow, k, stride, padding, h, wd);
        var be = x.Backend;
        int kk = g.ColumnRows, l = g.ColumnCols;
        // x as (C, L) rows: the stored product needs it here, the weight gradient later.
        DeviceBuffer? xT = null;
        DeviceBuffer ChannelRows()
        {
            if (xT is null)
            {
                xT = Workspace.Rent(be, c * l);
                be.SwapLeadingAxes(x.Data, n, c, g.OutPlane, xT);
            }

            return xT;
        }

        var y = Tensor.Empty(be, n, o, oh, ow);
        GemmCol2Im(be, w.Data, c, x.Data, be is IColumnGemm ? null : ChannelRows(), g, y.Data);

        if (b is not null)
        {
            be.AddChannelBias(y.Data, b.Data, n, o, g.InPlane);
        }

        Tensor[] inputs = b is null ? [x, w] : [x, w, b];
        return Autograd.Record(y, op, inputs, dy =>
        {
            // dCols = im2col(dy); dw = xT·dColsᵀ; dx = w·dCols as (C, L), swapped to NCHW.
            DeviceBuffer? dCols = ColumnsUnlessImplicit(be, dy, g);
            if (w.RequiresGrad)
            {
                var dw = Autograd.GradTarget(w, out float beta);
                GemmColumns(be, true, c, kk, l, ChannelRows(), dy, g, dCols, beta, dw);
            }

            if (x.RequiresGrad)
            {
                var dxT = Workspace.Rent(be, c * l);
                GemmColumns(be, false, c, l, kk, w.Data, dy, g, dCols, 0f, dxT);
                var dx = Workspace.Rent(be, x.Length);
                be.SwapLeadingAxes(dxT, c, n, g.OutPlane, dx);
                Autograd.Accumulate(x, dx, owned: true);
            }

            BiasGradient(b, dy, n, o, g.InPlane);
        });
    }

    // im2col(image) in a rented buffer, or null where the backend multiplies by it implicitly.
    private static DeviceBuffer? ColumnsUnlessImplicit(IBackend be, DeviceBuffer image, ConvGeometry g)
    {
        if (be is IColumnGemm)
        {
            return null;
        }

        var cols = Workspace.Rent(be, g.ColumnRows * g.ColumnCols);
        be.Im2Col(image, g, cols);
        return cols;
    }

    // C = a·op(cols) + beta·C, cols = im2col(image): from the stored matrix when there is one.
    private static void GemmColumns(
        IBackend be,
        bool transposeColumns,
        int m,
        int n,
        int k,
        DeviceBuffer a,
        DeviceBuffer image,
        ConvGeometry g,
        DeviceBuffer? cols,
        float beta,
        DeviceBuffer c)
    {
        if (cols is null)
        {
            ((IColumnGemm)be).GemmColumns(transposeColumns, m, n, k, 1f, a, image, g, beta, c);
        }
        else
        {
            be.Gemm(false, transposeColumns, m, n, k, 1f, a, cols, beta, c);
        }
    }

    // x = col2im(wᵀ·yT), yT = y as (channels, L), which only backends without IColumnGemm
    // need (they multiply into the stored column matrix and scatter it).
    private static void GemmCol2Im(
        IBackend be,
        DeviceBuffer w,
        int channels,
        DeviceBuffer y,
        DeviceBuffer? yT,
        ConvGeometry g,
        DeviceBuffer x)
    {
        if (be is IColumnGemm columnGemm)
        {
            columnGemm.GemmCol2Im(w, channels, y, g, x);
            return;
        }

        var cols = Workspace.Rent(be, g.ColumnRows * g.ColumnCols);
        be.Gemm(true, false, g.ColumnRows, g.ColumnCols, channels, 1f, w, yT!, 0f, cols);
        be.Col2Im(cols, g, x);
    }

    private static void BiasGradient(Tensor? b, DeviceBuffer dy, int batch, int channels, int spatial)
    {
        if (b is not null && b.RequiresGrad)
        {
            var db = Autograd.GradTarget(b, out float beta);
            b.Backend.ChannelSums(dy, batch, channels, spatial, db, accumulate: beta != 0f);
        }
    }

    private static (int N, int C, int H, int W) Image(string op, Tensor x)
    {
        if (x.Shape.Length != 4)
        {
            throw new ArgumentException(
                $"{op}: expected input (batch, channels, height, width), got {ShapeUtil.Format(x.Shape)}. "
                + "Reshape flat rows to images first.");
        }

        return (x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]);
    }

    private static void CheckWeight(string op, Tensor x, Tensor w, Tensor? b, int inChannels, string layout)
    {
        Check.SameBackend(op, x, w);
        bool square = w.Shape.Length == 4 && w.Shape[2] == w.Shape[3] && w.Shape[2] >= 1;
        int weightIn = op == nameof(Conv2d) ? w.Shape.ElementAtOrDefault(1) : w.Shape.ElementAtOrDefault(0);
        if (!square || weightIn != inChannels)
        {
            throw new ArgumentException(
                $"{op}: weight {ShapeUtil.Format(w.Shape)} (laid out {layout}) does not take an input "
                + $"of {inChannels} channels.");
        }

        int outChannels = op == nameof(Conv2d) ? w.Shape[0] : w.Shape[1];
        if (b is not null && b.Length != outChannels)
        {
            throw new ArgumentException($"{op}: bias has {b.Length} elements, weight has {outChannels} "
                + "output channels.");
        }
    }
}
