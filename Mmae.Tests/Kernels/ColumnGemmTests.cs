using Mmae.Kernels;
using Mmae.Kernels.Cpu;
using Xunit;

namespace Mmae.Tests.Kernels;

/// <summary>
/// The CPU backend's implicit convolution product (<see cref="IColumnGemm"/>) gathers the column
/// matrix while packing; it must give exactly what Im2Col followed by Gemm gives, since both
/// multiply the same values in the same order. The convolution layers' parity and gradient
/// tests check the values themselves against the scalar oracle.
/// </summary>
public sealed class ColumnGemmTests
{
    /// <summary>(N, C, H, W, k, s, p, m): odd sides, strides 1 to 3, padding up to k − 1, lines
    /// of 16 and more where stride 2 takes the vector path (and its end-of-line variant), a
    /// column count that is no multiple of any panel width, a product longer than one
    /// inner-dimension slice of the GEMM, and a weight gradient long enough (8192 positions)
    /// for the GEMM to split its inner dimension over threads.</summary>
    public static TheoryData<int, int, int, int, int, int, int, int> Cases() => new()
    {
        { 1, 1, 1, 1, 1, 1, 0, 1 },
        { 2, 3, 5, 7, 3, 1, 1, 5 },
        { 3, 2, 7, 6, 4, 2, 1, 7 },
        { 1, 2, 9, 8, 3, 3, 2, 3 },
        { 1, 1, 16, 16, 2, 2, 0, 6 },
        { 2, 3, 11, 40, 4, 2, 1, 13 },
        { 2, 32, 32, 32, 4, 2, 1, 64 },
        { 3, 20, 9, 9, 3, 1, 1, 33 },
        { 32, 1, 32, 32, 4, 2, 1, 6 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void GemmColumns_EqualsStoredColumnMatrix(int n, int c, int h, int w, int k, int s, int p, int m)
    {
        var g = new ConvGeometry(n, c, h, w, k, s, p,
            ConvGeometry.OutputSize(h, k, s, p), ConvGeometry.OutputSize(w, k, s, p));
        int rows = g.ColumnRows, cols = g.ColumnCols;
        var rng = new Random(n * 1000 + c * 100 + h + w + m);
        foreach (int threads in new[] { 1, 2 })
        {
            var be = new CpuBackend(threads);
            DeviceBuffer image = be.Upload(Values(rng, g.InputLength));
            DeviceBuffer stored = be.Allocate(rows * cols);
            be.Im2Col(image, g, stored);

            // y = alpha·a·cols + beta·y (m × L) and dw = alpha·dy·colsᵀ + beta·dw (m × K).
            foreach (bool transpose in new[] { false, true })
            {
                int outCols = transpose ? rows : cols, inner = transpose ? cols : rows;
                DeviceBuffer a = be.Upload(Values(rng, m * inner));
                float[] start = Values(rng, m * outCols);
                float alpha = (float)rng.NextDouble() + 0.5f, beta = transpose ? 0f : 0.75f;
                DeviceBuffer expected = be.Upload(start), actual = be.Upload(start);

                be.Gemm(false, transpose, m, outCols, inner, alpha, a, stored, beta, expected);
                be.GemmColumns(transpose, m, outCols, inner, alpha, a, image, g, beta, actual);

                Assert.Equal(be.ToArray(expected), be.ToArray(actual));
            }
        }
    }

    /// <summary>The cases above (planes of fewer than 32 windows take the CPU's swapped path)
    /// and a batch whose column matrix the CPU multiplies out in two slices of samples.</summary>
    public static TheoryData<int, int, int, int, int, int, int, int> Col2ImCases()
    {
        TheoryData<int, int, int, int, int, int, int, int> cases = Cases();
        cases.Add(24, 32, 32, 32, 4, 2, 1, 6);
        return cases;
    }

    /// <summary>x = col2im(wᵀ·y) with y read in place (N, m, OH, OW) equals the stored route:
    /// y swapped to (m, L), the column matrix multiplied out, then scattered.</summary>
    [Theory]
    [MemberData(nameof(Col2ImCases))]
    public void GemmCol2Im_EqualsStoredRoute(int n, int c, int h, int w, int k, int s, int p, int m)
    {
        var g = new ConvGeometry(n, c, h, w, k, s, p,
            ConvGeometry.OutputSize(h, k, s, p), ConvGeometry.OutputSize(w, k, s, p));
        int rows = g.ColumnRows, cols = g.ColumnCols;
        var rng = new Random(n * 999 + c * 99 + h + w + m);
        foreach (int threads in new[] { 1, 2 })
        {
            var be = new CpuBackend(threads);
            DeviceBuffer weights = be.Upload(Values(rng, m * rows)), y = be.Upload(Values(rng, m * cols));
            DeviceBuffer yT = be.Allocate(m * cols), stored = be.Allocate(rows * cols);
            DeviceBuffer expected = be.Upload(Values(rng, g.InputLength));
            DeviceBuffer actual = be.Upload(Values(rng, g.InputLength));

            be.SwapLeadingAxes(y, n, m, g.OutPlane, yT);
            be.Gemm(true, false, rows, cols, m, 1f, weights, yT, 0f, stored);
            be.Col2Im(stored, g, expected);
            be.GemmCol2Im(weights, m, y, g, actual);

            Assert.Equal(be.ToArray(expected), be.ToArray(actual));
        }
    }

    [Fact]
    public void GemmColumns_ShapeThatIsNotTheColumnMatrix_IsRefused()
    {
        var be = new CpuBackend(1);
        var g = new ConvGeometry(1, 2, 4, 4, 2, 2, 0, 2, 2);
        DeviceBuffer image = be.Allocate(g.InputLength), a = be.Allocate(3 * 8), c = be.Allocate(3 * 4);

        var e = Assert.Throws<ArgumentException>(() =>
            be.GemmColumns(false, 3, 4, 7, 1f, a, image, g, 0f, c));

        Assert.Contains("column matrix", e.Message, StringComparison.Ordinal);
    }

    // Random values in [−1, 1): never zeros, so a skipped or misplaced entry shows.
    private static float[] Values(Random rng, int length) =>
        Enumerable.Range(0, length).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
}
