using Xunit.Sdk;

namespace Mmae.Tests.Kernels;

/// <summary>Element-by-element comparison of arrays with explicit error allowances.</summary>
internal static class NumericAssert
{
    /// <summary>
    /// Passes when |actual[i] − expected[i]| ≤ absolute + relative·|expected[i]| for every i.
    /// </summary>
    public static void Close(
        double[] expected,
        double[] actual,
        double absolute,
        double relative,
        string context)
    {
        Within(expected, actual, i => absolute + relative * Math.Abs(expected[i]), context);
    }

    /// <summary>Passes when expected and actual are equal scalars within the same rule.</summary>
    public static void Close(
        double expected,
        double actual,
        double absolute,
        double relative,
        string context)
    {
        Close([expected], [actual], absolute, relative, context);
    }

    /// <summary>
    /// Passes when |actual[i] − expected[i]| ≤ allowed(i) for every i, and NaN appears in actual
    /// exactly where it appears in expected. On failure the message names the first failing
    /// index with expected, actual and allowed, the number of failures, the max abs diff, and
    /// the worst ratio of diff to allowance (how far the tolerance would have to grow).
    /// </summary>
    public static void Within(
        double[] expected,
        double[] actual,
        Func<int, double> allowed,
        string context)
    {
        if (expected.Length != actual.Length)
        {
            throw new XunitException(
                $"{context}: expected {expected.Length} elements, got {actual.Length}.");
        }

        int failures = 0;
        int first = -1;
        double firstAllowed = 0.0;
        double maxAbsDiff = 0.0;
        double worstRatio = 0.0;
        for (int i = 0; i < expected.Length; i++)
        {
            bool bothNaN = double.IsNaN(expected[i]) && double.IsNaN(actual[i]);
            double diff = Math.Abs(actual[i] - expected[i]);
            double limit = allowed(i);
            if (diff > 0.0)
            {
                worstRatio = Math.Max(worstRatio, diff / limit);
            }

            // Written as !(diff <= limit) so a NaN on one side counts as a failure.
            if (!bothNaN && !(diff <= limit))
            {
                failures++;
                if (first < 0)
                {
                    first = i;
                    firstAllowed = limit;
                }
            }

            if (!bothNaN)
            {
                maxAbsDiff = double.IsNaN(diff) ? double.NaN : Math.Max(maxAbsDiff, diff);
            }
        }

        if (failures > 0)
        {
            throw new XunitException(
                $"{context}: {failures} of {expected.Length} elements differ; first at index "
                    + $"{first}: expected {expected[first]:R}, actual {actual[first]:R}, "
                    + $"allowed ±{firstAllowed:G3}; max abs diff {maxAbsDiff:G3}; worst "
                    + $"diff/allowed {worstRatio:G3}.");
        }
    }
}
