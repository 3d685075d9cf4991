namespace Mmae.Kernels.Cpu;

// N = rows (batch), C = cols (features); x, y, dy, dx: (N, C); per-column vectors: (C).
// Statistics are summed in double over rows in row order, one column range per task.
public sealed partial class CpuBackend
{
    private const int ColumnChunk = 128;

    /// <inheritdoc/>
    public void BatchNormForwardTrain(
        DeviceBuffer x,
        int rows,
        int cols,
        DeviceBuffer gamma,
        DeviceBuffer beta,
        DeviceBuffer runningMean,
        DeviceBuffer runningVar,
        float momentum,
        float eps,
        DeviceBuffer y,
        DeviceBuffer saveMean,
        DeviceBuffer saveInvStd)
    {
        float[] px = F(x), py = F(y), pg = F(gamma), pb = F(beta);
        float[] rm = F(runningMean), rv = F(runningVar), sm = F(saveMean), si = F(saveInvStd);
        ForChunks(cols, ColumnChunk, (c0, c1) =>
        {
            int width = c1 - c0;
            Span<double> mean = stackalloc double[width];
            Span<double> sq = stackalloc double[width];
            Span<float> scale = stackalloc float[width];
            Span<float> shift = stackalloc float[width];
            for (int i = 0; i < rows; i++)
            {
                ReadOnlySpan<float> row = px.AsSpan(i * cols + c0, width);
                for (int j = 0; j < width; j++)
                {
                    mean[j] += row[j];
                }
            }

            for (int j = 0; j < width; j++)
            {
                mean[j] /= rows;
            }

            // Second pass about the mean: no cancellation from E[x²] − E[x]².
            for (int i = 0; i < rows; i++)
            {
                ReadOnlySpan<float> row = px.AsSpan(i * cols + c0, width);
                for (int j = 0; j < width; j++)
                {
                    double d = row[j] - mean[j];
                    sq[j] += d * d;
                }
            }

            for (int j = 0; j < width; j++)
            {
                int c = c0 + j;
                double invStd = 1.0 / Math.Sqrt(sq[j] / rows + eps);
                sm[c] = (float)mean[j];
                si[c] = (float)invStd;
                scale[j] = (float)(pg[c] * invStd);
                shift[j] = (float)(pb[c] - mean[j] * pg[c] * invStd);
                double unbiased = rows > 1 ? sq[j] / (rows - 1) : 0.0;
                rm[c] = (float)((1 - momentum) * rm[c] + momentum * mean[j]);
                rv[c] = (float)((1 - momentum) * rv[c] + momentum * unbiased);
            }

            for (int i = 0; i < rows; i++)
            {
                ApplyAffine(px.AsSpan(i * cols + c0, width), scale, shift, py.AsSpan(i * cols + c0, width));
            }
        });
    }

    /// <inheritdoc/>
    public void BatchNormForwardEval(
        DeviceBuffer x,
        int rows,
        int cols,
        DeviceBuffer gamma,
        DeviceBuffer beta,
        DeviceBuffer runningMean,
        DeviceBuffer runningVar,
        float eps,
        DeviceBuffer y)
    {
        float[] px = F(x), py = F(y), pg = F(gamma), pb = F(beta), rm = F(runningMean), rv = F(runningVar);
        var scale = new float[cols];
        var shift = new float[cols];
        for (int c = 0; c < cols; c++)
        {
            double invStd = 1.0 / Math.Sqrt(rv[c] + (double)eps);
            scale[c] = (float)(pg[c] * invStd);
            shift[c] = (float)(pb[c] - rm[c] * pg[c] * invStd);
        }

        ForChunks(rows, Math.Max(1, ElementChunk / Math.Max(cols, 1)), (r0, r1) =>
        {
            for (int i = r0; i < r1; i++)
            {
                ApplyAffine(px.AsSpan(i * cols, cols), scale, shift, py.AsSpan(i * cols, cols));
            }
        });
    }

    /// <inheritdoc/>
    public void BatchNormBackward(
        DeviceBuffer x,
        DeviceBuffer dy,
        int rows,
        int cols,
        DeviceBuffer gamma,
        DeviceBuffer saveMean,
        DeviceBuffer saveInvStd,
        DeviceBuffer dx,
        DeviceBuffer dGamma,
        DeviceBuffer dBeta)
    {
        float[] px = F(x), pdy = F(dy), pdx = F(dx), pg = F(gamma);
        float[] sm = F(saveMean), si = F(saveInvStd), dg = F(dGamma), db = F(dBeta);
        ForChunks(cols, ColumnChunk, (c0, c1) =>
        {
            int width = c1 - c0;
            Span<double> sumDy = stackalloc double[width];
            Span<double> sumDyXhat = stackalloc double[width];
            for (int i = 0; i < rows; i++)
            {
                ReadOnlySpan<float> xr = px.AsSpan(i * cols + c0, width);
                ReadOnlySpan<float> gr = pdy.AsSpan(i * cols + c0, width);
                for (int j = 0; j < width; j++)
                {
                    double xhat = (xr[j] - sm[c0 + j]) * (double)si[c0 + j];
                    sumDy[j] += gr[j];
                    sumDyXhat[j] += gr[j] * xhat;
                }
            }

            // dx = gamma·invStd·(dy − mean(dy) − x̂·mean(dy·x̂)), written as a·dy + b·x + c.
            Span<float> a = stackalloc float[width];
            Span<float> bx = stackalloc float[width];
            Span<float> c = stackalloc float[width];
            for (int j = 0; j < width; j++)
            {
                int col = c0 + j;
                double k = pg[col] * (double)si[col];
                double meanDy = sumDy[j] / rows;
                double meanDyXhat = sumDyXhat[j] / rows;
                a[j] = (float)k;
                bx[j] = (float)(-k * meanDyXhat * si[col]);
                c[j] = (float)(-k * (meanDy - meanDyXhat * si[col] * sm[col]));
                dg[col] += (float)sumDyXhat[j];
                db[col] += (float)sumDy[j];
            }

            for (int i = 0; i < rows; i++)
            {
                ReadOnlySpan<float> xr = px.AsSpan(i * cols + c0, width);
                ReadOnlySpan<float> gr = pdy.AsSpan(i * cols + c0, width);
                Span<float> dr = pdx.AsSpan(i * cols + c0, width);
                for (int j = 0; j < width; j++)
                {
                    dr[j] = a[j] * gr[j] + bx[j] * xr[j] + c[j];
                }
            }
        });
    }

    private static void ApplyAffine(
        ReadOnlySpan<float> x,
        ReadOnlySpan<float> scale,
        ReadOnlySpan<float> shift,
        Span<float> y)
    {
        for (int j = 0; j < y.Length; j++)
        {
            y[j] = MathF.FusedMultiplyAdd(x[j], scale[j], shift[j]);
        }
    }
}
