namespace Mmae.Tests.Kernels;

/// <summary>Central finite differences in float64, the independent check for backward kernels.
/// </summary>
internal static class FiniteDifference
{
    /// <summary>
    /// Step h. The central difference has truncation error about h²·|f'''|/6 ≈ 2e-11·|f'''| and
    /// rounding error about 1e-16·|f|/h ≈ 1e-11·|f|; 1e-5 balances the two for the O(1)
    /// inputs and O(1)-to-O(100) losses these tests use.
    /// </summary>
    public const double Step = 1e-5;

    /// <summary>
    /// Absolute allowance: both error terms above stay below about 1e-8 for these losses; the
    /// factor 10 is margin. Typical gradient entries here are 1e-3 to 10, so a wrong formula
    /// cannot hide under it.
    /// </summary>
    public const double AbsoluteTolerance = 1e-7;

    /// <summary>
    /// Relative allowance: a wrong factor or index moves a gradient by tens of percent, a
    /// correct one agrees with the difference quotient to about 1e-9 relative.
    /// </summary>
    public const double RelativeTolerance = 1e-6;

    /// <summary>
    /// ∂f/∂x[i] ≈ (f(x + h·e_i) − f(x − h·e_i)) / 2h for every i; x is restored afterwards.
    /// </summary>
    public static double[] Gradient(Func<double[], double> f, double[] x)
    {
        var gradient = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double saved = x[i];
            x[i] = saved + Step;
            double up = f(x);
            x[i] = saved - Step;
            double down = f(x);
            x[i] = saved;
            gradient[i] = (up - down) / (2.0 * Step);
        }

        return gradient;
    }

    /// <summary>Asserts that an analytic gradient matches the central differences of f.</summary>
    public static void AssertGradient(
        Func<double[], double> f,
        double[] x,
        double[] analytic,
        string context)
    {
        double[] numeric = Gradient(f, x);
        NumericAssert.Close(numeric, analytic, AbsoluteTolerance, RelativeTolerance, context);
    }
}
