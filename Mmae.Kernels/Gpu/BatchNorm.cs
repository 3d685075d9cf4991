using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace Mmae.Kernels.Gpu;

// N = rows (batch), C = cols (features); x, y, dy, dx: (N, C) row-major; per-column: (C).
// Statistics: one thread per column sums its N rows in row order in float64 (deterministic;
// neighbouring threads read neighbouring columns, so loads coalesce). Then one thread per
// element applies the per-column affine map. The per-column coefficients of the backward pass
// (dx = a·dy + b·x + c) go through a float scratch of 3·C.
// Limitation: statistics parallelise over columns only, so a layer with few features and a
// huge batch leaves most of the device idle; a split-row tree would lift that.
public sealed partial class GpuBackend
{
    private Action<AcceleratorStream, Index1D, BatchNormArgs> _bnStats = null!;
    private Action<AcceleratorStream, Index1D, BatchNormArgs> _bnApply = null!;
    private Action<AcceleratorStream, Index1D, BatchNormArgs> _bnEval = null!;
    private Action<AcceleratorStream, Index1D, BatchNormArgs> _bnBackwardStats = null!;
    private Action<AcceleratorStream, Index1D, BatchNormArgs> _bnBackwardApply = null!;
    private GpuBuffer? _bnCoefficients;

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
        var args = new BatchNormArgs
        {
            X = V(x), Y = V(y), Gamma = V(gamma), Beta = V(beta), RunningMean = V(runningMean),
            RunningVar = V(runningVar), SaveMean = V(saveMean), SaveInvStd = V(saveInvStd),
            Coefficients = BatchNormScratch(cols), Rows = rows, Cols = cols,
            Momentum = momentum, Eps = eps,
        };
        Launch(cols, _bnStats, args);
        Launch(rows * cols, _bnApply, args);
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
        var args = new BatchNormArgs
        {
            X = V(x), Y = V(y), Gamma = V(gamma), Beta = V(beta), RunningMean = V(runningMean),
            RunningVar = V(runningVar), Rows = rows, Cols = cols, Eps = eps,
        };
        Launch(rows * cols, _bnEval, args);
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
        var args = new BatchNormArgs
        {
            X = V(x), Y = V(dy), Dx = V(dx), Gamma = V(gamma), DGamma = V(dGamma),
            DBeta = V(dBeta), SaveMean = V(saveMean), SaveInvStd = V(saveInvStd),
            Coefficients = BatchNormScratch(cols), Rows = rows, Cols = cols,
        };
        Launch(cols, _bnBackwardStats, args);
        Launch(rows * cols, _bnBackwardApply, args);
    }

    private void Launch<T1>(int n, Action<AcceleratorStream, Index1D, T1> kernel, T1 a1)
        where T1 : struct
    {
        if (n > 0)
        {
            kernel(_stream, n, a1);
        }
    }

    private ArrayView<float> BatchNormScratch(int cols)
    {
        if (_bnCoefficients is null || _bnCoefficients.Length < 3 * cols)
        {
            // Kernels already queued may still read the old buffer: let them finish first.
            _stream.Synchronize();
            _bnCoefficients?.Dispose();
            _bnCoefficients = (GpuBuffer)Allocate(3 * Math.Max(cols, 1));
        }

        return _bnCoefficients.View;
    }

    private static GpuKernel[] BatchNormKernels =>
    [
        Define(BatchNormStatsKernel, static b => ref b._bnStats),
        Define(BatchNormApplyKernel, static b => ref b._bnApply),
        Define(BatchNormEvalKernel, static b => ref b._bnEval),
        Define(BatchNormBackwardStatsKernel, static b => ref b._bnBackwardStats),
        Define(BatchNormBackwardApplyKernel, static b => ref b._bnBackwardApply),
    ];

    /// <summary>Every view and scalar a batch-norm kernel may need, passed as one value.
    /// Forward kernels use Y as the output; backward kernels use Y as dy.</summary>
    internal struct BatchNormArgs
    {
        public ArrayView<float> X, Y, Dx, Gamma, Beta, RunningMean, RunningVar;
        public ArrayView<float> SaveMean, SaveInvStd, DGamma, DBeta, Coefficients;
        public int Rows, Cols;
        public float Momentum, Eps;
    }

    // Per column j: mean, biased variance about the mean (two passes, no E[x²] − mean²),
    // the saved statistics, the running statistics (unbiased variance), and scale/shift.
    internal static void BatchNormStatsKernel(Index1D j, BatchNormArgs a)
    {
        int rows = a.Rows, cols = a.Cols;
        double mean = 0;
        for (int i = 0; i < rows; i++)
        {
            mean += a.X[i * cols + j];
        }

        mean /= rows;
        double sq = 0;
        for (int i = 0; i < rows; i++)
        {
            double d = a.X[i * cols + j] - mean;
            sq += d * d;
        }

        double invStd = 1.0 / XMath.Sqrt(sq / rows + a.Eps);
        double unbiased = rows > 1 ? sq / (rows - 1) : 0.0;
        double momentum = a.Momentum;
        a.SaveMean[j] = (float)mean;
        a.SaveInvStd[j] = (float)invStd;
        a.RunningMean[j] = (float)((1 - momentum) * a.RunningMean[j] + momentum * mean);
        a.RunningVar[j] = (float)((1 - momentum) * a.RunningVar[j] + momentum * unbiased);
        a.Coefficients[j] = (float)(a.Gamma[j] * invStd);
        a.Coefficients[cols + j] = (float)(a.Beta[j] - mean * a.Gamma[j] * invStd);
    }

    // y = x·scale + shift
    internal static void BatchNormApplyKernel(Index1D i, BatchNormArgs a)
    {
        int j = i % a.Cols;
        a.Y[i] = a.X[i] * a.Coefficients[j] + a.Coefficients[a.Cols + j];
    }

    // y = gamma·(x − running mean)/sqrt(running var + eps) + beta
    internal static void BatchNormEvalKernel(Index1D i, BatchNormArgs a)
    {
        int j = i % a.Cols;
        double invStd = 1.0 / XMath.Sqrt(a.RunningVar[j] + (double)a.Eps);
        float scale = (float)(a.Gamma[j] * invStd);
        float shift = (float)(a.Beta[j] - a.RunningMean[j] * a.Gamma[j] * invStd);
        a.Y[i] = a.X[i] * scale + shift;
    }

    // dGamma += Σ dy·x̂, dBeta += Σ dy, and dx = gamma·invStd·(dy − mean(dy) − x̂·mean(dy·x̂))
    // rewritten as a·dy + b·x + c for the apply kernel.
    internal static void BatchNormBackwardStatsKernel(Index1D j, BatchNormArgs a)
    {
        int rows = a.Rows, cols = a.Cols;
        double mu = a.SaveMean[j], s = a.SaveInvStd[j];
        double sumDy = 0, sumDyXhat = 0;
        for (int i = 0; i < rows; i++)
        {
            double g = a.Y[i * cols + j];
            sumDy += g;
            sumDyXhat += g * (a.X[i * cols + j] - mu) * s;
        }

        double k = a.Gamma[j] * s;
        double meanDy = sumDy / rows, meanDyXhat = sumDyXhat / rows;
        a.Coefficients[j] = (float)k;
        a.Coefficients[cols + j] = (float)(-k * meanDyXhat * s);
        a.Coefficients[2 * cols + j] = (float)(-k * (meanDy - meanDyXhat * s * mu));
        a.DGamma[j] += (float)sumDyXhat;
        a.DBeta[j] += (float)sumDy;
    }

    internal static void BatchNormBackwardApplyKernel(Index1D i, BatchNormArgs a)
    {
        int j = i % a.Cols;
        int c = a.Cols;
        a.Dx[i] = a.Coefficients[j] * a.Y[i] + a.Coefficients[c + j] * a.X[i]
            + a.Coefficients[2 * c + j];
    }
}
