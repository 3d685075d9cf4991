namespace Mmae.Kernels.Cpu;

// N = batch, C = channels, S = spatial (H·W); x, y, dy, dx: (N, C, S); per-channel: (C).
// One task per channel walks its N runs of S contiguous elements: float lanes within a run,
// double across runs in sample order, two passes for the variance (no E[x²] − mean²).
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void BatchNorm2dForwardTrain(
        DeviceBuffer x,
        int batch,
        int channels,
        int spatial,
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
        int count = batch * spatial;
        ForChunks(channels, 1, (c0, c1) =>
        {
            for (int c = c0; c < c1; c++)
            {
                double sum = 0;
                for (int n = 0; n < batch; n++)
                {
                    sum += PlaneKernels.Sum(px.AsSpan((n * channels + c) * spatial, spatial));
                }

                float mean = (float)(sum / count);
                double squares = 0;
                for (int n = 0; n < batch; n++)
                {
                    squares += PlaneKernels.SumSquaredDeviation(
                        px.AsSpan((n * channels + c) * spatial, spatial), mean);
                }

                double invStd = 1.0 / Math.Sqrt(squares / count + eps);
                float scale = (float)(pg[c] * invStd);
                float shift = (float)(pb[c] - mean * pg[c] * invStd);
                for (int n = 0; n < batch; n++)
                {
                    int at = (n * channels + c) * spatial;
                    PlaneKernels.Affine(px.AsSpan(at, spatial), scale, shift, py.AsSpan(at, spatial));
                }

                sm[c] = mean;
                si[c] = (float)invStd;
                double unbiased = count > 1 ? squares / (count - 1) : 0.0;
                rm[c] = (float)((1 - momentum) * rm[c] + momentum * mean);
                rv[c] = (float)((1 - momentum) * rv[c] + momentum * unbiased);
            }
        });
    }

    /// <inheritdoc/>
    public void BatchNorm2dForwardEval(
        DeviceBuffer x,
        int batch,
        int channels,
        int spatial,
        DeviceBuffer gamma,
        DeviceBuffer beta,
        DeviceBuffer runningMean,
        DeviceBuffer runningVar,
        float eps,
        DeviceBuffer y)
    {
        float[] px = F(x), py = F(y), pg = F(gamma), pb = F(beta), rm = F(runningMean), rv = F(runningVar);
        ForChunks(batch * channels, Math.Max(1, ElementChunk / Math.Max(spatial, 1)), (s, e) =>
        {
            for (int nc = s; nc < e; nc++)
            {
                int c = nc % channels;
                double invStd = 1.0 / Math.Sqrt(rv[c] + (double)eps);
                float scale = (float)(pg[c] * invStd);
                float shift = (float)(pb[c] - rm[c] * pg[c] * invStd);
                PlaneKernels.Affine(
                    px.AsSpan(nc * spatial, spatial), scale, shift, py.AsSpan(nc * spatial, spatial));
            }
        });
    }

    /// <inheritdoc/>
    public void BatchNorm2dBackward(
        DeviceBuffer x,
        DeviceBuffer dy,
        int batch,
        int channels,
        int spatial,
        DeviceBuffer gamma,
        DeviceBuffer saveMean,
        DeviceBuffer saveInvStd,
        DeviceBuffer dx,
        DeviceBuffer dGamma,
        DeviceBuffer dBeta)
    {
        float[] px = F(x), pdy = F(dy), pdx = F(dx), pg = F(gamma);
        float[] sm = F(saveMean), si = F(saveInvStd), dg = F(dGamma), db = F(dBeta);
        int count = batch * spatial;
        ForChunks(channels, 1, (c0, c1) =>
        {
            for (int c = c0; c < c1; c++)
            {
                double sumDy = 0, sumDyCentred = 0;
                for (int n = 0; n < batch; n++)
                {
                    int at = (n * channels + c) * spatial;
                    (double a, double b) = PlaneKernels.BackwardSums(
                        pdy.AsSpan(at, spatial), px.AsSpan(at, spatial), sm[c]);
                    sumDy += a;
                    sumDyCentred += b;
                }

                // Σ dy·x̂ = invStd·Σ dy·(x − mean); dx = a·dy + b·x + c as in the 1-d kernel.
                double s = si[c];
                double sumDyXhat = sumDyCentred * s;
                double k = pg[c] * s;
                double meanDy = sumDy / count, meanDyXhat = sumDyXhat / count;
                float ca = (float)k;
                float cb = (float)(-k * meanDyXhat * s);
                float cc = (float)(-k * (meanDy - meanDyXhat * s * sm[c]));
                for (int n = 0; n < batch; n++)
                {
                    int at = (n * channels + c) * spatial;
                    PlaneKernels.Affine2(
                        pdy.AsSpan(at, spatial), px.AsSpan(at, spatial), ca, cb, cc, pdx.AsSpan(at, spatial));
                }

                dg[c] += (float)sumDyXhat;
                db[c] += (float)sumDy;
            }
        });
    }
}
