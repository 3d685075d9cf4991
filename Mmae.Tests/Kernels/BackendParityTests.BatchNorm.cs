using Mmae.Kernels;
using Xunit;

namespace Mmae.Tests.Kernels;

// Batch normalisation. N = rows, x, y, dy, dx: (N, cols); everything else: (cols).
// Per column j the allowances use, computed in double from the inputs:
//   s_j = invStd_j, E[x²]_j = (1/N) Σ_i x_ij², mean|x|_j = (1/N) Σ_i |x_ij|.
// A float mean is off by about N·u·mean|x|; a float variance, whether computed in two passes
// or as E[x²] − mean², by about N·u·E[x²]; 1/sqrt(var + eps) moves by s³/2 times that.
public abstract partial class BackendParityTests
{
    /// <summary>Batch sizes 2 (x̂ = ±1), 3 and 128 against 1, 17 and 1000 features.</summary>
    public static TheoryData<int, int> BatchNormShapes()
    {
        var data = new TheoryData<int, int>();
        foreach (int rows in new[] { 2, 3, 128 })
        {
            foreach (int cols in new[] { 1, 17, 1000 })
            {
                data.Add(rows, cols);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BatchNormShapes))]
    public void BatchNormForwardTrain_MatchesOracle(int rows, int cols)
    {
        const float momentum = 0.1f, eps = 1e-5f;
        BatchNormInputs inputs = BatchNormInputs.Create(rows, cols, seed: 100 * rows + cols);
        Twin x = Upload(inputs.X);
        Twin gamma = Upload(inputs.Gamma);
        Twin beta = Upload(inputs.Beta);
        Twin runningMean = Upload(inputs.RunningMean);
        Twin runningVar = Upload(inputs.RunningVar);
        Twin y = Upload(TestArrays.Constant(rows * cols, double.NaN));
        Twin saveMean = Upload(TestArrays.Constant(cols, double.NaN));
        Twin saveInvStd = Upload(TestArrays.Constant(cols, double.NaN));

        Run(b => b.BatchNormForwardTrain(
            x[b],
            rows,
            cols,
            gamma[b],
            beta[b],
            runningMean[b],
            runningVar[b],
            momentum,
            eps,
            y[b],
            saveMean[b],
            saveInvStd[b]));

        double[] mean = Expected(saveMean);
        double[] s = Expected(saveInvStd);
        ColumnStats stats = ColumnStats.Of(inputs.X, rows, cols);
        string shape = $"{rows}×{cols}";

        AssertMatches(saveMean, $"BatchNorm saveMean {shape}", rows + 1, stats.MeanAbs);
        AssertMatches(
            saveInvStd,
            $"BatchNorm saveInvStd {shape}",
            rows + 3,
            Map(cols, j => s[j] * s[j] * s[j] * stats.MeanSquare[j]));

        // y = γ·(x − mean)·s + β: the mean's error and the subtraction enter through
        // |γ|·s·(|x| + mean|x|), the error of s through |γ·x̂|·s²·E[x²], then one add of β.
        double[] yScale = Map(
            rows * cols,
            ij =>
            {
                int j = ij % cols;
                double g = Math.Abs(inputs.Gamma[j]);
                double xHat = (inputs.X[ij] - mean[j]) * s[j];
                return g * s[j] * (Math.Abs(inputs.X[ij]) + stats.MeanAbs[j])
                    + g * Math.Abs(xHat) * s[j] * s[j] * stats.MeanSquare[j]
                    + Math.Abs(inputs.Beta[j]);
            });
        AssertMatches(y, $"BatchNorm y {shape}", rows + 3, yScale);

        // running = (1 − momentum)·running + momentum·batch statistic.
        double unbiasing = rows / (rows - 1.0);
        AssertMatches(
            runningMean,
            $"BatchNorm runningMean {shape}",
            rows + 3,
            Map(cols, j => (1.0 - momentum) * Math.Abs(inputs.RunningMean[j])
                + momentum * stats.MeanAbs[j]));
        AssertMatches(
            runningVar,
            $"BatchNorm runningVar {shape}",
            rows + 4,
            Map(cols, j => (1.0 - momentum) * inputs.RunningVar[j]
                + momentum * stats.MeanSquare[j] * unbiasing));
    }

    [Theory]
    [MemberData(nameof(BatchNormShapes))]
    public void BatchNormForwardEval_MatchesOracle(int rows, int cols)
    {
        const float eps = 1e-5f;
        BatchNormInputs inputs = BatchNormInputs.Create(rows, cols, seed: 200 * rows + cols);
        Twin x = Upload(inputs.X);
        Twin gamma = Upload(inputs.Gamma);
        Twin beta = Upload(inputs.Beta);
        Twin runningMean = Upload(inputs.RunningMean);
        Twin runningVar = Upload(inputs.RunningVar);
        Twin y = Upload(TestArrays.Constant(rows * cols, double.NaN));

        Run(b => b.BatchNormForwardEval(
            x[b], rows, cols, gamma[b], beta[b], runningMean[b], runningVar[b], eps, y[b]));

        // A subtraction, a (reciprocal) square root, two products and an add per element.
        double[] scale = Map(
            rows * cols,
            ij =>
            {
                int j = ij % cols;
                double s = 1.0 / Math.Sqrt(inputs.RunningVar[j] + eps);
                double g = Math.Abs(inputs.Gamma[j]);
                return g * s * (Math.Abs(inputs.X[ij]) + Math.Abs(inputs.RunningMean[j]))
                    + Math.Abs(inputs.Beta[j]);
            });
        AssertMatches(y, $"BatchNormEval y {rows}×{cols}", 5, scale);
    }

    [Theory]
    [MemberData(nameof(BatchNormShapes))]
    public void BatchNormBackward_MatchesOracle(int rows, int cols)
    {
        const float eps = 1e-5f;
        BatchNormInputs inputs = BatchNormInputs.Create(rows, cols, seed: 300 * rows + cols);
        var rng = new Random(rows * cols);
        double[] dy = TestArrays.Uniform(rng, rows * cols, -1.0, 1.0);
        double[] dGammaStart = TestArrays.Uniform(rng, cols, -1.0, 1.0);
        double[] dBetaStart = TestArrays.Uniform(rng, cols, -1.0, 1.0);

        // Saved statistics: the batch's own, rounded to float, handed to both backends alike.
        ColumnStats stats = ColumnStats.Of(inputs.X, rows, cols);
        double[] mean = stats.Mean.Select(v => (double)(float)v).ToArray();
        double[] s = Map(cols, j => (float)(1.0 / Math.Sqrt(stats.BiasedVar[j] + eps)));
        Twin x = Upload(inputs.X);
        Twin dys = Upload(dy);
        Twin gamma = Upload(inputs.Gamma);
        Twin saveMean = Upload(mean);
        Twin saveInvStd = Upload(s);
        Twin dx = Upload(TestArrays.Constant(rows * cols, double.NaN));
        Twin dGamma = Upload(dGammaStart);
        Twin dBeta = Upload(dBetaStart);

        Run(b => b.BatchNormBackward(
            x[b], dys[b], rows, cols, gamma[b], saveMean[b], saveInvStd[b], dx[b], dGamma[b],
            dBeta[b]));

        // x̂ = (x − mean)·s is off by u·s·(|x| + |mean|) =: u·h. Per column:
        //   sums Σ dy (magnitude Σ|dy|) and Σ dy·x̂ (magnitude Σ |dy|·h, which bounds Σ|dy·x̂|);
        //   dx = γ·s·(dy − mean(dy) − x̂·mean(dy·x̂)) then carries
        //   |γ|·s·(|dy| + mean|dy| + |x̂|·mean(|dy|·h) + h·|mean(dy·x̂)|).
        double[] h = Map(rows * cols, ij => s[ij % cols]
            * (Math.Abs(inputs.X[ij]) + Math.Abs(mean[ij % cols])));
        double[] sumAbsDy = new double[cols];
        double[] sumAbsDyH = new double[cols];
        double[] sumDyXHat = new double[cols];
        for (int ij = 0; ij < rows * cols; ij++)
        {
            int j = ij % cols;
            sumAbsDy[j] += Math.Abs(dy[ij]);
            sumAbsDyH[j] += Math.Abs(dy[ij]) * h[ij];
            sumDyXHat[j] += dy[ij] * (inputs.X[ij] - mean[j]) * s[j];
        }

        double[] dxScale = Map(
            rows * cols,
            ij =>
            {
                int j = ij % cols;
                double xHat = Math.Abs((inputs.X[ij] - mean[j]) * s[j]);
                return Math.Abs(inputs.Gamma[j]) * s[j]
                    * (Math.Abs(dy[ij]) + sumAbsDy[j] / rows + xHat * sumAbsDyH[j] / rows
                        + h[ij] * Math.Abs(sumDyXHat[j]) / rows);
            });
        string shape = $"{rows}×{cols}";
        AssertMatches(dx, $"BatchNormBackward dx {shape}", rows + 4, dxScale);
        AssertMatches(
            dGamma,
            $"BatchNormBackward dGamma {shape}",
            rows + 2,
            Map(cols, j => Math.Abs(dGammaStart[j]) + sumAbsDyH[j]));
        AssertMatches(
            dBeta,
            $"BatchNormBackward dBeta {shape}",
            rows + 1,
            Map(cols, j => Math.Abs(dBetaStart[j]) + sumAbsDy[j]));
    }

    /// <summary>
    /// Random batch-norm inputs: x in [−0.5, 1.5) so columns have a nonzero mean (a one-pass
    /// variance must cope with it), gamma of both signs away from 0, running variance > 0.
    /// </summary>
    private sealed record BatchNormInputs(
        double[] X,
        double[] Gamma,
        double[] Beta,
        double[] RunningMean,
        double[] RunningVar)
    {
        public static BatchNormInputs Create(int rows, int cols, int seed)
        {
            var rng = new Random(seed);
            return new BatchNormInputs(
                TestArrays.Uniform(rng, rows * cols, -0.5, 1.5),
                TestArrays.AwayFromZero(rng, cols, 0.5, 1.5),
                TestArrays.Uniform(rng, cols, -1.0, 1.0),
                TestArrays.Uniform(rng, cols, -1.0, 1.0),
                TestArrays.Uniform(rng, cols, 0.5, 1.5));
        }
    }

    /// <summary>Per-column statistics of a rows×cols matrix, in double.</summary>
    private sealed record ColumnStats(
        double[] Mean,
        double[] MeanAbs,
        double[] MeanSquare,
        double[] BiasedVar)
    {
        public static ColumnStats Of(double[] x, int rows, int cols)
        {
            var mean = new double[cols];
            var meanAbs = new double[cols];
            var meanSquare = new double[cols];
            var biasedVar = new double[cols];
            for (int ij = 0; ij < rows * cols; ij++)
            {
                mean[ij % cols] += x[ij] / rows;
                meanAbs[ij % cols] += Math.Abs(x[ij]) / rows;
                meanSquare[ij % cols] += x[ij] * x[ij] / rows;
            }

            for (int ij = 0; ij < rows * cols; ij++)
            {
                double deviation = x[ij] - mean[ij % cols];
                biasedVar[ij % cols] += deviation * deviation / rows;
            }

            return new ColumnStats(mean, meanAbs, meanSquare, biasedVar);
        }
    }
}
