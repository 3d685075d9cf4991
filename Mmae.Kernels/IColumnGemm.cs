namespace Mmae.Kernels;

/// <summary>
/// A backend that multiplies by a convolution's column matrix without writing it out (an
/// "implicit GEMM"). Backends without it get <see cref="IBackend.Im2Col"/> followed by
/// <see cref="IBackend.Gemm"/> (and <see cref="IBackend.Col2Im"/>), which give the same values.
/// </summary>
public interface IColumnGemm
{
    /// <summary>
    /// C (m×n) = alpha · A · op(cols) + beta · C with A m×k row-major, cols the column matrix of
    /// <paramref name="image"/> under <paramref name="g"/> (K×L, see <see cref="ConvGeometry"/>)
    /// and op(cols) = cols (k = K, n = L) or, with <paramref name="transposeColumns"/>, colsᵀ
    /// (k = L, n = K).
    /// </summary>
    void GemmColumns(
        bool transposeColumns,
        int m,
        int n,
        int k,
        float alpha,
        DeviceBuffer a,
        DeviceBuffer image,
        ConvGeometry g,
        float beta,
        DeviceBuffer c);

    /// <summary>
    /// x = col2im(wᵀ · Y), the adjoint of y = w·im2col(x) in x: a convolution's input gradient
    /// and a transposed convolution's output. w is <paramref name="channels"/> × K row-major
    /// (K = g.ColumnRows), y is (N, channels, OH, OW) read as channels × L, and x, (N, C, H, W)
    /// under <paramref name="g"/>, is overwritten.
    /// </summary>
    void GemmCol2Im(DeviceBuffer w, int channels, DeviceBuffer y, ConvGeometry g, DeviceBuffer x);
}
