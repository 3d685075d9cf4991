using Mmae.Kernels;
using Mmae.Kernels.Scalar;
using Xunit;

namespace Mmae.Tests.Kernels;

/// <summary>The scalar oracle's Adam update against two steps worked out by hand.</summary>
public sealed class ScalarAdamTests
{
    /// <summary>
    /// Every hand value is a short binary fraction or one square root away from one, so
    /// anything beyond 1e-12 is a wrong formula, not rounding.
    /// </summary>
    private const double HandTolerance = 1e-12;

    // β1 = 0.5, β2 = 0.75, lr = 0.25 and eps = 0.5 are exact in float and large enough that
    // every term of the update visibly matters (eps is added after the square root).
    private const float LearningRate = 0.25f;
    private const float Beta1 = 0.5f;
    private const float Beta2 = 0.75f;
    private const float Eps = 0.5f;

    private readonly ScalarBackend _backend = new();

    [Fact]
    public void AdamStep_TwoSteps_MatchHandComputation()
    {
        DeviceBuffer param = _backend.Upload([1.0, -2.0]);
        DeviceBuffer m = _backend.Allocate(2);
        DeviceBuffer v = _backend.Allocate(2);

        // Step t = 1, g = (2, −1); c1 = 1 − 0.5 = 0.5, c2 = 1 − 0.75 = 0.25.
        //   m = 0.5·0 + 0.5·g        = (1, −0.5)
        //   v = 0.75·0 + 0.25·g²     = (1, 0.25)
        //   m/c1 = (2, −1), v/c2 = (4, 1), sqrt = (2, 1)
        //   update = 0.25·(2, −1)/((2, 1) + 0.5) = (0.2, −1/6)
        //   param = (1 − 0.2, −2 + 1/6) = (0.8, −11/6)
        DeviceBuffer grad = _backend.Upload([2.0, -1.0]);
        _backend.AdamStep(param, grad, m, v, LearningRate, Beta1, Beta2, Eps, 0.5f, 0.25f);

        AssertHand([1.0, -0.5], m, "m after step 1");
        AssertHand([1.0, 0.25], v, "v after step 1");
        AssertHand([0.8, -11.0 / 6.0], param, "param after step 1");
        AssertHand([2.0, -1.0], grad, "grad is only read");

        // Step t = 2, g = (2, 3); c1 = 1 − 0.25 = 0.75, c2 = 1 − 0.5625 = 0.4375.
        //   m = 0.5·(1, −0.5) + 0.5·(2, 3)      = (1.5, 1.25)
        //   v = 0.75·(1, 0.25) + 0.25·(4, 9)    = (1.75, 2.4375)
        //   m/c1 = (2, 5/3), v/c2 = (4, 39/7)
        //   update = 0.25·(2/(2 + 0.5), (5/3)/(sqrt(39/7) + 0.5))
        //   param = (0.8 − 0.2, −11/6 − update_1) = (0.6, …)
        _backend.AdamStep(
            param,
            _backend.Upload([2.0, 3.0]),
            m,
            v,
            LearningRate,
            Beta1,
            Beta2,
            Eps,
            0.75f,
            0.4375f);

        double update1 = 0.25 * (5.0 / 3.0) / (Math.Sqrt(39.0 / 7.0) + 0.5);
        AssertHand([1.5, 1.25], m, "m after step 2");
        AssertHand([1.75, 2.4375], v, "v after step 2");
        AssertHand([0.6, -11.0 / 6.0 - update1], param, "param after step 2");
    }

    private void AssertHand(double[] expected, DeviceBuffer actual, string context)
    {
        double[] values = _backend.ToArray(actual);
        NumericAssert.Close(expected, values, HandTolerance, HandTolerance, context);
    }
}
