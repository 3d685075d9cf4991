namespace Mmae.Kernels.Scalar;

// Batch normalisation per channel of an NCHW tensor, PyTorch's BatchNorm2d conventions.
// N = batch, C = channels, S = spatial (H·W); x, y, dx, dy: (N, C, S), element (n, c, q) at
// (n·C + c)·S + q; gamma, beta, running and saved statistics, dGamma, dBeta: (C). Channel c
// takes its statistics over the M = N·S elements x[·, c, ·], with the formulas of the 1-d case
// (BatchNorm.cs): biased variance in the normalisation, unbiased M/(M − 1) in the running one.
public sealed partial class ScalarBackend
{
    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">batch·spatial is below 2.</exception>
    /// <exception cref="ArgumentException">A buffer is not this backend's, or a length is not
    /// batch·channels·spatial or channels.</exception>
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
        int count = batch * spatial;
        if (count < 2)
        {
            throw new ArgumentOutOfRangeException(
                nameof(batch),
                count,
                $"ScalarBackend.BatchNorm2dForwardTrain: expected batch·spatial >= 2, got {count}. "
                    + "The unbiased running variance divides by batch·spatial - 1.");
        }

        int length = batch * channels * spatial;
        double[] xd = Own(x, length);
        double[] yd = Own(y, length);
        double[] g = Own(gamma, channels);
        double[] b = Own(beta, channels);
        double[] rm = Own(runningMean, channels);
        double[] rv = Own(runningVar, channels);
        double[] sm = Own(saveMean, channels);
        double[] si = Own(saveInvStd, channels);
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

            double mean = sum / count;
            double squares = 0.0;
            for (int n = 0; n < batch; n++)
            {
                for (int q = 0; q < spatial; q++)
                {
                    double d = xd[(n * channels + c) * spatial + q] - mean;
                    squares += d * d;
                }
            }

            double invStd = 1.0 / Math.Sqrt(squares / count + eps);
            for (int n = 0; n < batch; n++)
            {
                for (int q = 0; q < spatial; q++)
                {
                    int i = (n * channels + c) * spatial + q;
                    yd[i] = g[c] * (xd[i] - mean) * invStd + b[c];
                }
            }

            sm[c] = mean;
            si[c] = invStd;
            rm[c] = (1.0 - momentum) * rm[c] + momentum * mean;
            rv[c] = (1.0 - momentum) * rv[c] + momentum * squares / (count - 1);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A buffer is not this backend's, or a length is not
    /// batch·channels·spatial or channels.</exception>
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
        int length = batch * channels * spatial;
        double[] xd = Own(x, length);
        double[] yd = Own(y, length);
        double[] g = Own(gamma, channels);
        double[] b = Own(beta, channels);
        double[] rm = Own(runningMean, channels);
        double[] rv = Own(runningVar, channels);
        for (int i = 0; i < length; i++)
        {
            int c = i / spatial % channels;
            yd[i] = g[c] * (xd[i] - rm[c]) / Math.Sqrt(rv[c] + eps) + b[c];
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A buffer is not this backend's, or a length is not
    /// batch·channels·spatial or channels.</exception>
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
        int length = batch * channels * spatial;
        int count = batch * spatial;
        double[] xd = Own(x, length);
        double[] dyd = Own(dy, length);
        double[] dxd = Own(dx, length);
        double[] g = Own(gamma, channels);
        double[] sm = Own(saveMean, channels);
        double[] si = Own(saveInvStd, channels);
        double[] dg = Own(dGamma, channels);
        double[] db = Own(dBeta, channels);
        for (int c = 0; c < channels; c++)
        {
            double sumDy = 0.0, sumDyXHat = 0.0;
            for (int n = 0; n < batch; n++)
            {
                for (int q = 0; q < spatial; q++)
                {
                    int i = (n * channels + c) * spatial + q;
                    sumDy += dyd[i];
                    sumDyXHat += dyd[i] * (xd[i] - sm[c]) * si[c];
                }
            }

            // dx = gamma·invStd·(dy − mean(dy) − x̂·mean(dy·x̂)), means over the channel.
            for (int n = 0; n < batch; n++)
            {
                for (int q = 0; q < spatial; q++)
                {
                    int i = (n * channels + c) * spatial + q;
                    double xHat = (xd[i] - sm[c]) * si[c];
                    dxd[i] = g[c] * si[c] * (dyd[i] - sumDy / count - xHat * sumDyXHat / count);
                }
            }

            dg[c] += sumDyXHat;
            db[c] += sumDy;
        }
    }
}
