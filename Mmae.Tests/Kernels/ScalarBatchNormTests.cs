using Mmae.Kernels;
using Mmae.Kernels.Scalar;
using Xunit;

namespace Mmae.Tests.Kernels;

/// <summary>
/// The scalar oracle's batch normalisation against a 3×2 example worked out by hand and
/// against finite differences.
/// </summary>
public sealed class ScalarBatchNormTests
{
    /// <summary>
    /// The hand example is built so every intermediate is a short binary fraction (variances
    /// plus eps are perfect squares), so anything beyond 1e-12 is a wrong formula.
    /// </summary>
    private const double HandTolerance = 1e-12;

    // The hand example. x is 3×2 (rows × cols), eps = 2, momentum = 0.25.
    //   column 0: x = (4, 4, 1), mean 3, deviations (1, 1, −2), Σ dev² = 6,
    //             biased var 6/3 = 2, unbiased 6/2 = 3, invStd = 1/sqrt(2 + 2) = 1/2,
    //             x̂ = (0.5, 0.5, −1)
    //   column 1: x = (1, −2, 7), mean 2, deviations (−1, −4, 5), Σ dev² = 42,
    //             biased var 14, unbiased 21, invStd = 1/sqrt(14 + 2) = 1/4,
    //             x̂ = (−0.25, −1, 1.25)
    // gamma = (2, −1), beta = (0.5, 1):
    //   y col 0 = 2·x̂ + 0.5 = (1.5, 1.5, −1.5);  y col 1 = −x̂ + 1 = (1.25, 2, −0.25)
    // running mean (1, −1) → 0.75·(1, −1) + 0.25·(3, 2) = (1.5, −0.25)
    // running var  (2, 4)  → 0.75·(2, 4) + 0.25·(3, 21) = (2.25, 8.25)
    private static readonly double[] s_x = [4, 1, 4, -2, 1, 7];
    private static readonly double[] s_gamma = [2, -1];
    private static readonly double[] s_beta = [0.5, 1];
    private const float Eps = 2.0f;
    private const float Momentum = 0.25f;

    private readonly ScalarBackend _backend = new();

    [Fact]
    public void ForwardTrain_HandExample_OutputSavedAndRunningStatistics()
    {
        DeviceBuffer runningMean = _backend.Upload([1.0, -1.0]);
        DeviceBuffer runningVar = _backend.Upload([2.0, 4.0]);
        DeviceBuffer y = _backend.Allocate(6);
        DeviceBuffer saveMean = _backend.Allocate(2);
        DeviceBuffer saveInvStd = _backend.Allocate(2);

        _backend.BatchNormForwardTrain(
            _backend.Upload(s_x),
            3,
            2,
            _backend.Upload(s_gamma),
            _backend.Upload(s_beta),
            runningMean,
            runningVar,
            Momentum,
            Eps,
            y,
            saveMean,
            saveInvStd);

        AssertHand([1.5, 1.25, 1.5, 2.0, -1.5, -0.25], y, "y");
        AssertHand([3.0, 2.0], saveMean, "saveMean");
        AssertHand([0.5, 0.25], saveInvStd, "saveInvStd");
        AssertHand([1.5, -0.25], runningMean, "runningMean");
        AssertHand([2.25, 8.25], runningVar, "runningVar (unbiased batch variance)");
    }

    [Fact]
    public void ForwardEval_RunningStatisticsEqualBatchStatistics_MatchesTrainOutput()
    {
        // With running mean (3, 2) and running var (2, 14), the biased batch statistics of the
        // hand example, evaluation mode must reproduce the training output above.
        DeviceBuffer y = _backend.Allocate(6);

        _backend.BatchNormForwardEval(
            _backend.Upload(s_x),
            3,
            2,
            _backend.Upload(s_gamma),
            _backend.Upload(s_beta),
            _backend.Upload([3.0, 2.0]),
            _backend.Upload([2.0, 14.0]),
            Eps,
            y);

        AssertHand([1.5, 1.25, 1.5, 2.0, -1.5, -0.25], y, "y");
    }

    [Fact]
    public void Backward_HandExample_WritesDxAndAddsIntoParameterGradients()
    {
        // dy = [1 2; −1 0; 3 −2], so per column dy = (1, −1, 3) and (2, 0, −2).
        //   column 0: mean(dy) = 1, dy·x̂ = (0.5, −0.5, −3), Σ = −3, mean = −1
        //     dx = 2·(1/2)·(dy − 1 + x̂) = (0.5, −1.5, 1); dGamma += −3; dBeta += 3
        //   column 1: mean(dy) = 0, dy·x̂ = (−0.5, 0, −2.5), Σ = −3, mean = −1
        //     dx = −1·(1/4)·(dy + x̂) = −0.25·(1.75, −1, −0.75) = (−0.4375, 0.25, 0.1875)
        //     dGamma += −3; dBeta += 0
        // dGamma starts at (10, 20) and dBeta at (−1, 1) to show the kernel adds.
        DeviceBuffer dx = _backend.Upload([9.0, 9.0, 9.0, 9.0, 9.0, 9.0]);
        DeviceBuffer dGamma = _backend.Upload([10.0, 20.0]);
        DeviceBuffer dBeta = _backend.Upload([-1.0, 1.0]);

        _backend.BatchNormBackward(
            _backend.Upload(s_x),
            _backend.Upload([1.0, 2.0, -1.0, 0.0, 3.0, -2.0]),
            3,
            2,
            _backend.Upload(s_gamma),
            _backend.Upload([3.0, 2.0]),
            _backend.Upload([0.5, 0.25]),
            dx,
            dGamma,
            dBeta);

        AssertHand([0.5, -0.4375, -1.5, 0.25, 1.0, 0.1875], dx, "dx");
        AssertHand([7.0, 17.0], dGamma, "dGamma");
        AssertHand([2.0, 1.0], dBeta, "dBeta");
    }

    [Fact]
    public void ForwardTrain_OneRow_Throws()
    {
        DeviceBuffer one = _backend.Allocate(1);

        var error = Assert.Throws<ArgumentOutOfRangeException>(
            () => _backend.BatchNormForwardTrain(
                one, 1, 1, one, one, one, one, 0.1f, 1e-5f, one, one, one));

        Assert.Equal("rows", error.ParamName);
    }

    [Theory]
    [InlineData(2, 3)]
    [InlineData(5, 4)]
    public void Backward_RandomBatch_MatchesFiniteDifferences(int rows, int cols)
    {
        // L = Σ_ij w_ij·y_ij, so ∂L/∂y = w; the forward pass recomputes the batch statistics
        // from the perturbed x, which is what the backward formula differentiates through.
        var rng = new Random(20 + rows);
        double[] x = TestArrays.Uniform(rng, rows * cols, -1.0, 2.0);
        double[] gamma = TestArrays.AwayFromZero(rng, cols, 0.5, 1.5);
        double[] beta = TestArrays.Uniform(rng, cols, -1.0, 1.0);
        double[] w = TestArrays.Uniform(rng, rows * cols, -1.0, 1.0);
        const float eps = 1e-3f;

        double Loss(double[] xs, double[] g, double[] b)
        {
            DeviceBuffer y = _backend.Allocate(rows * cols);
            _backend.BatchNormForwardTrain(
                _backend.Upload(xs),
                rows,
                cols,
                _backend.Upload(g),
                _backend.Upload(b),
                _backend.Allocate(cols),
                _backend.Allocate(cols),
                0.1f,
                eps,
                y,
                _backend.Allocate(cols),
                _backend.Allocate(cols));
            return TestArrays.Dot(w, _backend.ToArray(y));
        }

        DeviceBuffer saveMean = _backend.Allocate(cols);
        DeviceBuffer saveInvStd = _backend.Allocate(cols);
        _backend.BatchNormForwardTrain(
            _backend.Upload(x),
            rows,
            cols,
            _backend.Upload(gamma),
            _backend.Upload(beta),
            _backend.Allocate(cols),
            _backend.Allocate(cols),
            0.1f,
            eps,
            _backend.Allocate(rows * cols),
            saveMean,
            saveInvStd);
        DeviceBuffer dx = _backend.Allocate(rows * cols);
        DeviceBuffer dGamma = _backend.Allocate(cols);
        DeviceBuffer dBeta = _backend.Allocate(cols);
        _backend.BatchNormBackward(
            _backend.Upload(x),
            _backend.Upload(w),
            rows,
            cols,
            _backend.Upload(gamma),
            saveMean,
            saveInvStd,
            dx,
            dGamma,
            dBeta);

        FiniteDifference.AssertGradient(
            xs => Loss(xs, gamma, beta), x, _backend.ToArray(dx), "dx");
        FiniteDifference.AssertGradient(
            g => Loss(x, g, beta), gamma, _backend.ToArray(dGamma), "dGamma");
        FiniteDifference.AssertGradient(
            b => Loss(x, gamma, b), beta, _backend.ToArray(dBeta), "dBeta");
    }

    private void AssertHand(double[] expected, DeviceBuffer actual, string context)
    {
        double[] values = _backend.ToArray(actual);
        NumericAssert.Close(expected, values, HandTolerance, HandTolerance, context);
    }
}
