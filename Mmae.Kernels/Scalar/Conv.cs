namespace Mmae.Kernels.Scalar;

// Convolution lowering (see ConvGeometry): x (N, C, H, W); cols (K, L) with K = C·k·k rows
// indexed (c, ky, kx) and L = N·OH·OW columns indexed (n, oy, ox). Input row iy = oy·s − p + ky,
// column ix = ox·s − p + kx; outside [0, H)×[0, W) the entry is padding, 0.
public sealed partial class ScalarBackend
{
    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A buffer is not this backend's, or a length differs
    /// from the geometry's.</exception>
    public void Im2Col(DeviceBuffer x, ConvGeometry g, DeviceBuffer cols)
    {
        double[] xd = Own(x, g.InputLength);
        double[] cd = Own(cols, g.ColumnRows * g.ColumnCols);
        int k = g.Kernel;
        for (int c = 0; c < g.Channels; c++)
        {
            for (int ky = 0; ky < k; ky++)
            {
                for (int kx = 0; kx < k; kx++)
                {
                    int row = (c * k + ky) * k + kx;
                    for (int n = 0; n < g.Batch; n++)
                    {
                        for (int oy = 0; oy < g.OutHeight; oy++)
                        {
                            for (int ox = 0; ox < g.OutWidth; ox++)
                            {
                                int col = (n * g.OutHeight + oy) * g.OutWidth + ox;
                                cd[row * g.ColumnCols + col] = InputAt(xd, g, n, c, oy, ox, ky, kx);
                            }
                        }
                    }
                }
            }
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A buffer is not this backend's, or a length differs
    /// from the geometry's.</exception>
    public void Col2Im(DeviceBuffer cols, ConvGeometry g, DeviceBuffer x)
    {
        double[] cd = Own(cols, g.ColumnRows * g.ColumnCols);
        double[] xd = Own(x, g.InputLength);
        Array.Clear(xd);
        int k = g.Kernel;
        for (int c = 0; c < g.Channels; c++)
        {
            for (int ky = 0; ky < k; ky++)
            {
                for (int kx = 0; kx < k; kx++)
                {
                    int row = (c * k + ky) * k + kx;
                    for (int n = 0; n < g.Batch; n++)
                    {
                        for (int oy = 0; oy < g.OutHeight; oy++)
                        {
                            for (int ox = 0; ox < g.OutWidth; ox++)
                            {
                                int iy = oy * g.Stride - g.Padding + ky;
                                int ix = ox * g.Stride - g.Padding + kx;
                                if (iy >= 0 && iy < g.Height && ix >= 0 && ix < g.Width)
                                {
                                    int col = (n * g.OutHeight + oy) * g.OutWidth + ox;
                                    xd[((n * g.Channels + c) * g.Height + iy) * g.Width + ix] +=
                                        cd[row * g.ColumnCols + col];
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A buffer is not this backend's, or a length is not
    /// rows·cols·inner.</exception>
    public void SwapLeadingAxes(DeviceBuffer src, int rows, int cols, int inner, DeviceBuffer dst)
    {
        NonNegative(rows);
        NonNegative(cols);
        NonNegative(inner);
        double[] s = Own(src, rows * cols * inner);
        double[] d = Own(dst, rows * cols * inner);
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                for (int q = 0; q < inner; q++)
                {
                    d[(j * rows + i) * inner + q] = s[(i * cols + j) * inner + q];
                }
            }
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A buffer is not this backend's, or a length is not
    /// batch·channels·spatial or channels.</exception>
    public void AddChannelBias(DeviceBuffer x, DeviceBuffer bias, int batch, int channels, int spatial)
    {
        double[] xd = Own(x, batch * channels * spatial);
        double[] b = Own(bias, channels);
        for (int n = 0; n < batch; n++)
        {
            for (int c = 0; c < channels; c++)
            {
                for (int q = 0; q < spatial; q++)
                {
                    xd[(n * channels + c) * spatial + q] += b[c];
                }
            }
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A buffer is not this backend's, or a length is not
    /// batch·channels·spatial or channels.</exception>
    public void ChannelSums(DeviceBuffer x, int batch, int channels, int spatial, DeviceBuffer dst, bool accumulate)
    {
        double[] xd = Own(x, batch * channels * spatial);
        double[] d = Own(dst, channels);
        for (int c = 0; c < channels; c++)
        {
            double sum = 0.0;
            for (int n = 0; n < batch; n++)
            {
                for (int q = 0; q < spatial; q++)
                {
                    sum += xd[(n * channels + c) * spatial + q];
                }
            }

            d[c] = accumulate ? d[c] + sum : sum;
        }
    }

    private static double InputAt(double[] x, ConvGeometry g, int n, int c, int oy, int ox, int ky, int kx)
    {
        int iy = oy * g.Stride - g.Padding + ky;
        int ix = ox * g.Stride - g.Padding + kx;
        bool inside = iy >= 0 && iy < g.Height && ix >= 0 && ix < g.Width;
        return inside ? x[((n * g.Channels + c) * g.Height + iy) * g.Width + ix] : 0.0;
    }
}
