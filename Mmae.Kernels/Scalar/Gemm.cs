namespace Mmae.Kernels.Scalar;

// Dense layer kernels: the matrix product and the bias broadcast and reduction that go with it.
// All matrices are row-major. Gemm: op(A) is m×k, op(B) is k×n, C is m×n; A is stored m×k
// (k×m when transA), B is stored k×n (n×k when transB). Bias: x is rows×cols, bias is cols.
public sealed partial class ScalarBackend
{
    /// <inheritdoc/>
    /// <remarks>
    /// The inner sum runs over p = 0..k−1 in order, in double. With beta = 0 the old C is never
    /// read, so NaN or garbage there does not leak into the result.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">m, n or k is negative.</exception>
    /// <exception cref="ArgumentException">A buffer is not this backend's, or a length is not
    /// m·k, k·n or m·n.</exception>
    public void Gemm(
        bool transA,
        bool transB,
        int m,
        int n,
        int k,
        float alpha,
        DeviceBuffer a,
        DeviceBuffer b,
        float beta,
        DeviceBuffer c)
    {
        NonNegative(m);
        NonNegative(n);
        NonNegative(k);
        double[] aData = Own(a, m * k);
        double[] bData = Own(b, k * n);
        double[] cData = Own(c, m * n);

        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                // sum = (op(A) · op(B))[i, j]
                double sum = 0.0;
                for (int p = 0; p < k; p++)
                {
                    double aip = ElementOfOp(aData, transA, m, k, i, p);
                    double bpj = ElementOfOp(bData, transB, k, n, p, j);
                    sum += aip * bpj;
                }

                cData[i * n + j] = beta == 0.0f
                    ? alpha * sum
                    : alpha * sum + beta * cData[i * n + j];
            }
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">rows or cols is negative.</exception>
    /// <exception cref="ArgumentException">A buffer is not this backend's, or a length is not
    /// rows·cols or cols.</exception>
    public void AddRowVector(DeviceBuffer x, DeviceBuffer bias, int rows, int cols)
    {
        NonNegative(rows);
        NonNegative(cols);
        double[] xData = Own(x, rows * cols);
        double[] biasData = Own(bias, cols);

        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                xData[i * cols + j] += biasData[j];
            }
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">rows or cols is negative.</exception>
    /// <exception cref="ArgumentException">A buffer is not this backend's, or a length is not
    /// rows·cols or cols.</exception>
    public void ColumnSums(DeviceBuffer x, int rows, int cols, DeviceBuffer dst, bool accumulate)
    {
        NonNegative(rows);
        NonNegative(cols);
        double[] xData = Own(x, rows * cols);
        double[] dstData = Own(dst, cols);

        for (int j = 0; j < cols; j++)
        {
            double sum = accumulate ? dstData[j] : 0.0;
            for (int i = 0; i < rows; i++)
            {
                sum += xData[i * cols + j];
            }

            dstData[j] = sum;
        }
    }

    /// <summary>
    /// Element [r, c] of op(X), where op(X) is rows×cols and X is stored rows×cols, or
    /// cols×rows when transposed.
    /// </summary>
    private static double ElementOfOp(
        double[] x,
        bool transposed,
        int rows,
        int cols,
        int r,
        int c)
    {
        return transposed ? x[c * rows + r] : x[r * cols + c];
    }
}
