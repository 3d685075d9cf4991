using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace Mmae.Kernels.Gpu;

// N = batch, C = channels, S = spatial; x, y, dy, dx: (N, C, S); per-channel: (C).
// Statistics: one group per channel; each thread strides over the channel's N·S elements in
// float64 and GroupSum folds the group in a fixed order (two passes for the variance). The
// group's thread 0 writes the saved and running statistics and the per-channel coefficients
// (scale and shift forward; a, b, c of dx = a·dy + b·x + c backward) into the float scratch of
// BatchNorm.cs; then one thread per element applies them.
public sealed partial class GpuBackend
{
    private Action<AcceleratorStream, KernelConfig, BatchNorm2dArgs> _bn2dStats = null!;
    private Action<AcceleratorStream, Index1D, BatchNorm2dArgs> _bn2dApply = null!;
    private Action<AcceleratorStream, Index1D, BatchNorm2dArgs> _bn2dEval = null!;
    private Action<AcceleratorStream, KernelConfig, BatchNorm2dArgs> _bn2dBackwardStats = null!;
    private Action<AcceleratorStream, Index1D, BatchNorm2dArgs> _bn2dBackwardApply = null!;

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
        var args = new BatchNorm2dArgs
        {
            X = V(x), Y = V(y), Gamma = V(gamma), Beta = V(beta), RunningMean = V(runningMean),
            RunningVar = V(runningVar), SaveMean = V(saveMean), SaveInvStd = V(saveInvStd),
            Coefficients = BatchNormScratch(channels), Batch = batch, Channels = channels,
            Spatial = spatial, Momentum = momentum, Eps = eps,
        };
        if (channels > 0)
        {
            _bn2dStats(_stream, Groups(channels), args);
        }

        Launch(batch * channels * spatial, _bn2dApply, args);
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
        var args = new BatchNorm2dArgs
        {
            X = V(x), Y = V(y), Gamma = V(gamma), Beta = V(beta), RunningMean = V(runningMean),
            RunningVar = V(runningVar), Batch = batch, Channels = channels, Spatial = spatial,
            Eps = eps,
        };
        Launch(batch * channels * spatial, _bn2dEval, args);
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
        var args = new BatchNorm2dArgs
        {
            X = V(x), Y = V(dy), Dx = V(dx), Gamma = V(gamma), DGamma = V(dGamma),
            DBeta = V(dBeta), SaveMean = V(saveMean), SaveInvStd = V(saveInvStd),
            Coefficients = BatchNormScratch(channels), Batch = batch, Channels = channels,
            Spatial = spatial,
        };
        if (channels > 0)
        {
            _bn2dBackwardStats(_stream, Groups(channels), args);
        }

        Launch(batch * channels * spatial, _bn2dBackwardApply, args);
    }

    private static GpuKernel[] BatchNorm2dKernels =>
    [
        Define(BatchNorm2dStatsKernel, static b => ref b._bn2dStats),
        Define(BatchNorm2dApplyKernel, static b => ref b._bn2dApply),
        Define(BatchNorm2dEvalKernel, static b => ref b._bn2dEval),
        Define(BatchNorm2dBackwardStatsKernel, static b => ref b._bn2dBackwardStats),
        Define(BatchNorm2dBackwardApplyKernel, static b => ref b._bn2dBackwardApply),
    ];

    /// <summary>Every view and scalar a BatchNorm2d kernel may need, passed as one value.
    /// Forward kernels use Y as the output; backward kernels use Y as dy.</summary>
    internal struct BatchNorm2dArgs
    {
        public ArrayView<float> X, Y, Dx, Gamma, Beta, RunningMean, RunningVar;
        public ArrayView<float> SaveMean, SaveInvStd, DGamma, DBeta, Coefficients;
        public int Batch, Channels, Spatial;
        public float Momentum, Eps;
    }

    // Group c: mean, biased variance about it, saved and running statistics, scale and shift.
    internal static void BatchNorm2dStatsKernel(BatchNorm2dArgs a)
    {
        var shared = SharedMemory.Allocate<double>(GroupSize);
        int c = Grid.IdxX, count = a.Batch * a.Spatial;
        double sum = 0;
        for (int t = Group.IdxX; t < count; t += GroupSize)
        {
            sum += a.X[ChannelElement(t, c, a.Channels, a.Spatial)];
        }

        double mean = GroupSum(sum, shared) / count;
        double squares = 0;
        for (int t = Group.IdxX; t < count; t += GroupSize)
        {
            double d = a.X[ChannelElement(t, c, a.Channels, a.Spatial)] - mean;
            squares += d * d;
        }

        squares = GroupSum(squares, shared);
        if (Group.IdxX == 0)
        {
            double invStd = 1.0 / XMath.Sqrt(squares / count + a.Eps);
            double unbiased = count > 1 ? squares / (count - 1) : 0.0;
            double momentum = a.Momentum;
            a.SaveMean[c] = (float)mean;
            a.SaveInvStd[c] = (float)invStd;
            a.RunningMean[c] = (float)((1 - momentum) * a.RunningMean[c] + momentum * mean);
            a.RunningVar[c] = (float)((1 - momentum) * a.RunningVar[c] + momentum * unbiased);
            a.Coefficients[c] = (float)(a.Gamma[c] * invStd);
            a.Coefficients[a.Channels + c] = (float)(a.Beta[c] - mean * a.Gamma[c] * invStd);
        }
    }

    // y = x·scale + shift
    internal static void BatchNorm2dApplyKernel(Index1D i, BatchNorm2dArgs a)
    {
        int c = i / a.Spatial % a.Channels;
        a.Y[i] = a.X[i] * a.Coefficients[c] + a.Coefficients[a.Channels + c];
    }

    // y = gamma·(x − running mean)/sqrt(running var + eps) + beta
    internal static void BatchNorm2dEvalKernel(Index1D i, BatchNorm2dArgs a)
    {
        int c = i / a.Spatial % a.Channels;
        double invStd = 1.0 / XMath.Sqrt(a.RunningVar[c] + (double)a.Eps);
        float scale = (float)(a.Gamma[c] * invStd);
        float shift = (float)(a.Beta[c] - a.RunningMean[c] * a.Gamma[c] * invStd);
        a.Y[i] = a.X[i] * scale + shift;
    }

    // Group c: dGamma += Σ dy·x̂, dBeta += Σ dy, and the coefficients of
    // dx = gamma·invStd·(dy − mean(dy) − x̂·mean(dy·x̂)) = a·dy + b·x + c.
    internal static void BatchNorm2dBackwardStatsKernel(BatchNorm2dArgs a)
    {
        var shared = SharedMemory.Allocate<double>(GroupSize);
        int c = Grid.IdxX, count = a.Batch * a.Spatial;
        double mu = a.SaveMean[c], s = a.SaveInvStd[c];
        double sumDy = 0, sumDyXhat = 0;
        for (int t = Group.IdxX; t < count; t += GroupSize)
        {
            int i = ChannelElement(t, c, a.Channels, a.Spatial);
            double g = a.Y[i];
            sumDy += g;
            sumDyXhat += g * (a.X[i] - mu) * s;
        }

        sumDy = GroupSum(sumDy, shared);
        sumDyXhat = GroupSum(sumDyXhat, shared);
        if (Group.IdxX == 0)
        {
            int channels = a.Channels;
            double k = a.Gamma[c] * s;
            double meanDy = sumDy / count, meanDyXhat = sumDyXhat / count;
            a.Coefficients[c] = (float)k;
            a.Coefficients[channels + c] = (float)(-k * meanDyXhat * s);
            a.Coefficients[2 * channels + c] = (float)(-k * (meanDy - meanDyXhat * s * mu));
            a.DGamma[c] += (float)sumDyXhat;
            a.DBeta[c] += (float)sumDy;
        }
    }

    internal static void BatchNorm2dBackwardApplyKernel(Index1D i, BatchNorm2dArgs a)
    {
        int c = i / a.Spatial % a.Channels;
        int channels = a.Channels;
        a.Dx[i] = a.Coefficients[c] * a.Y[i] + a.Coefficients[channels + c] * a.X[i]
            + a.Coefficients[2 * channels + c];
    }
}
