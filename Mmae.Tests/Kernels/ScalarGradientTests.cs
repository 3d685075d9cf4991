using Mmae.Kernels;
using Mmae.Kernels.Scalar;
using Xunit;

namespace Mmae.Tests.Kernels;

/// <summary>
/// Every backward rule of the scalar oracle against central finite differences of its own
/// forward kernel. Each test builds a scalar loss L = Σ w ⊙ output with fresh random weights
/// w, so ∂L/∂output = w and the backward kernel must return ∂L/∂input.
/// </summary>
public sealed class ScalarGradientTests
{
    private readonly ScalarBackend _backend = new();

    [Fact]
    public void ReluBackward_AwayFromZero_MatchesFiniteDifferences()
    {
        // |x| ≥ 0.1 ≫ the finite-difference step, so no difference quotient straddles the kink.
        var rng = new Random(1);
        double[] x = TestArrays.AwayFromZero(rng, 40, 0.1, 2.0);
        double[] w = TestArrays.Uniform(rng, 40, -1.0, 1.0);

        DeviceBuffer y = _backend.Allocate(40);
        _backend.Relu(_backend.Upload(x), y);
        DeviceBuffer dx = _backend.Allocate(40);
        _backend.ReluBackward(y, _backend.Upload(w), dx);

        FiniteDifference.AssertGradient(
            xs => TestArrays.Dot(w, Apply(_backend.Relu, xs)), x, _backend.ToArray(dx), "ReLU");
    }

    [Fact]
    public void TanhBackward_MatchesFiniteDifferences()
    {
        var rng = new Random(2);
        double[] x = TestArrays.Uniform(rng, 40, -3.0, 3.0);
        double[] w = TestArrays.Uniform(rng, 40, -1.0, 1.0);

        DeviceBuffer y = _backend.Allocate(40);
        _backend.Tanh(_backend.Upload(x), y);
        DeviceBuffer dx = _backend.Allocate(40);
        _backend.TanhBackward(y, _backend.Upload(w), dx);

        FiniteDifference.AssertGradient(
            xs => TestArrays.Dot(w, Apply(_backend.Tanh, xs)), x, _backend.ToArray(dx), "Tanh");
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Gemm_GradientProducts_MatchFiniteDifferences(bool transA, bool transB)
    {
        // C = α·op(A)·op(B) + β·C0 and L = Σ W ⊙ C give
        //   ∂L/∂op(A) = α·W·op(B)ᵀ,  ∂L/∂op(B) = α·op(A)ᵀ·W,  ∂L/∂C0 = β·W.
        // The products are formed with Gemm itself, so this also checks that each transpose
        // flag reads its operand the way the forward product does.
        const int m = 3, n = 4, k = 5;
        const float alpha = 1.5f, beta = 0.5f;
        var rng = new Random(3);
        double[] a = TestArrays.Uniform(rng, m * k, -1.0, 1.0);
        double[] b = TestArrays.Uniform(rng, k * n, -1.0, 1.0);
        double[] c0 = TestArrays.Uniform(rng, m * n, -1.0, 1.0);
        double[] w = TestArrays.Uniform(rng, m * n, -1.0, 1.0);
        DeviceBuffer aBuf = _backend.Upload(a);
        DeviceBuffer bBuf = _backend.Upload(b);
        DeviceBuffer wBuf = _backend.Upload(w);

        double Loss(double[] aa, double[] bb, double[] cc)
        {
            DeviceBuffer c = _backend.Upload(cc);
            _backend.Gemm(
                transA, transB, m, n, k, alpha, _backend.Upload(aa), _backend.Upload(bb), beta, c);
            return TestArrays.Dot(w, _backend.ToArray(c));
        }

        // dA in A's storage layout: α·W·op(B)ᵀ (m×k), or its transpose α·op(B)·Wᵀ (k×m).
        DeviceBuffer dA = _backend.Allocate(m * k);
        if (!transA)
        {
            _backend.Gemm(false, !transB, m, k, n, alpha, wBuf, bBuf, 0.0f, dA);
        }
        else
        {
            _backend.Gemm(transB, true, k, m, n, alpha, bBuf, wBuf, 0.0f, dA);
        }

        // dB in B's storage layout: α·op(A)ᵀ·W (k×n), or its transpose α·Wᵀ·op(A) (n×k).
        DeviceBuffer dB = _backend.Allocate(k * n);
        if (!transB)
        {
            _backend.Gemm(!transA, false, k, n, m, alpha, aBuf, wBuf, 0.0f, dB);
        }
        else
        {
            _backend.Gemm(true, transA, n, k, m, alpha, wBuf, aBuf, 0.0f, dB);
        }

        double[] dC0 = new double[m * n];
        for (int i = 0; i < dC0.Length; i++)
        {
            dC0[i] = beta * w[i];
        }

        string combo = $"transA: {transA}, transB: {transB}";
        FiniteDifference.AssertGradient(
            aa => Loss(aa, b, c0), a, _backend.ToArray(dA), $"dA ({combo})");
        FiniteDifference.AssertGradient(
            bb => Loss(a, bb, c0), b, _backend.ToArray(dB), $"dB ({combo})");
        FiniteDifference.AssertGradient(cc => Loss(a, b, cc), c0, dC0, $"dC0 ({combo})");
    }

    [Fact]
    public void MseBackward_MatchesFiniteDifferences()
    {
        // L = s·mse(a, b) with an upstream gradient s ≠ 1, so dLoss must scale the result.
        var rng = new Random(4);
        double[] a = TestArrays.Uniform(rng, 30, -2.0, 2.0);
        double[] b = TestArrays.Uniform(rng, 30, -2.0, 2.0);
        const double s = 1.75;

        double Loss(double[] aa)
        {
            DeviceBuffer loss = _backend.Allocate(1);
            _backend.MseForward(_backend.Upload(aa), _backend.Upload(b), loss);
            return s * _backend.Scalar(loss);
        }

        DeviceBuffer da = _backend.Allocate(30);
        _backend.MseBackward(_backend.Upload(a), _backend.Upload(b), _backend.Upload([s]), da);

        FiniteDifference.AssertGradient(Loss, a, _backend.ToArray(da), "MSE");
    }

    [Theory]
    [InlineData(2, 3)]
    [InlineData(6, 4)]
    public void PairwiseSquaredDistancesBackward_MatchesFiniteDifferences(int p, int dim)
    {
        // W is not symmetric, so the rule must use both dD_ij and dD_ji.
        var rng = new Random(5 + p);
        double[] x = TestArrays.Uniform(rng, p * dim, -1.0, 1.0);
        double[] w = TestArrays.Uniform(rng, p * p, -1.0, 1.0);

        double Loss(double[] xs)
        {
            DeviceBuffer d = _backend.Allocate(p * p);
            _backend.PairwiseSquaredDistances(_backend.Upload(xs), p, dim, d);
            return TestArrays.Dot(w, _backend.ToArray(d));
        }

        DeviceBuffer dx = _backend.Allocate(p * dim);
        DeviceBuffer xBuf = _backend.Upload(x);
        _backend.PairwiseSquaredDistancesBackward(xBuf, _backend.Upload(w), p, dim, dx);

        FiniteDifference.AssertGradient(Loss, x, _backend.ToArray(dx), "pairwise distances");
    }

    [Fact]
    public void FrobeniusNormalizeBackward_MatchesFiniteDifferences()
    {
        var rng = new Random(6);
        double[] x = TestArrays.Uniform(rng, 12, -2.0, 2.0);
        double[] w = TestArrays.Uniform(rng, 12, -1.0, 1.0);

        double Loss(double[] xs)
        {
            DeviceBuffer y = _backend.Allocate(12);
            _backend.FrobeniusNormalize(_backend.Upload(xs), y, _backend.Allocate(1));
            return TestArrays.Dot(w, _backend.ToArray(y));
        }

        DeviceBuffer yBuf = _backend.Allocate(12);
        DeviceBuffer norm = _backend.Allocate(1);
        _backend.FrobeniusNormalize(_backend.Upload(x), yBuf, norm);
        DeviceBuffer dx = _backend.Allocate(12);
        _backend.FrobeniusNormalizeBackward(yBuf, _backend.Upload(w), norm, dx);

        FiniteDifference.AssertGradient(Loss, x, _backend.ToArray(dx), "Frobenius normalisation");
    }

    /// <summary>Runs an elementwise kernel on host values and returns the host result.</summary>
    private double[] Apply(Action<DeviceBuffer, DeviceBuffer> kernel, double[] x)
    {
        DeviceBuffer dst = _backend.Allocate(x.Length);
        kernel(_backend.Upload(x), dst);
        return _backend.ToArray(dst);
    }
}
