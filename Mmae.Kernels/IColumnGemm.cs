namespace Mmae.Kernels;

/// <summary>
/// A backend that multiplies by a convolution's column matrix without writing it out (an
/// "implicit GEMM"). Backends without it get <see cref="IBackend.Im2Col"/> followed by
/// <see cref="IBackend.Gemm"/>, which gives the same values.
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
}
