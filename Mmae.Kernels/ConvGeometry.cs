namespace Mmae.Kernels;

/// <summary>
/// The shapes of one 2-D convolution over a batch in NCHW layout: an input of
/// (Batch, Channels, Height, Width), a square Kernel×Kernel window moved by Stride over the
/// input padded by Padding zeros on every side, and OutHeight×OutWidth window positions.
/// </summary>
/// <remarks>
/// The lowering the backends share: column matrix cols has K = Channels·Kernel² rows, one per
/// (channel, ky, kx), and L = Batch·OutHeight·OutWidth columns, one per (sample, oy, ox);
/// cols[(c·k + ky)·k + kx, (n·OH + oy)·OW + ox] = x[n, c, oy·s − p + ky, ox·s − p + kx], or 0
/// where that falls in the padding. A transposed convolution uses the geometry of the
/// convolution it is the adjoint of, so OutHeight and OutWidth are given rather than derived:
/// with output padding they are smaller than the formula on a larger input would give.
/// </remarks>
/// <param name="Batch">N, samples.</param>
/// <param name="Channels">C, input channels.</param>
/// <param name="Height">H, input rows.</param>
/// <param name="Width">W, input columns.</param>
/// <param name="Kernel">k, the window side.</param>
/// <param name="Stride">s, the step between windows.</param>
/// <param name="Padding">p, zeros added on each side.</param>
/// <param name="OutHeight">OH, window positions down.</param>
/// <param name="OutWidth">OW, window positions across.</param>
public readonly record struct ConvGeometry(
    int Batch,
    int Channels,
    int Height,
    int Width,
    int Kernel,
    int Stride,
    int Padding,
    int OutHeight,
    int OutWidth)
{
    /// <summary>K = Channels·Kernel², the rows of the column matrix.</summary>
    public int ColumnRows => Channels * Kernel * Kernel;

    /// <summary>OH·OW, window positions per sample.</summary>
    public int OutPlane => OutHeight * OutWidth;

    /// <summary>L = Batch·OH·OW, the columns of the column matrix.</summary>
    public int ColumnCols => Batch * OutHeight * OutWidth;

    /// <summary>H·W, elements per input channel.</summary>
    public int InPlane => Height * Width;

    /// <summary>Elements of the input, N·C·H·W.</summary>
    public int InputLength => Batch * Channels * Height * Width;

    /// <summary>⌊(size + 2p − k)/s⌋ + 1, the window positions along one side.</summary>
    public static int OutputSize(int size, int kernel, int stride, int padding) =>
        (size + 2 * padding - kernel) / stride + 1;
}
