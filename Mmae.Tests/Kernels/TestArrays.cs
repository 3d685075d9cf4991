namespace Mmae.Tests.Kernels;

/// <summary>Seeded random inputs for kernel tests.</summary>
/// <remarks>
/// Every value is rounded to the nearest float before it is returned, so a float32 backend and
/// the float64 oracle receive bit-identical inputs and any difference in their outputs comes
/// from the kernels alone, not from rounding at upload.
/// </remarks>
internal static class TestArrays
{
    /// <summary>n values drawn uniformly from [low, high), rounded to float.</summary>
    public static double[] Uniform(Random rng, int n, double low, double high)
    {
        var values = new double[n];
        for (int i = 0; i < n; i++)
        {
            values[i] = (float)(low + (high - low) * rng.NextDouble());
        }

        return values;
    }

    /// <summary>
    /// n values with magnitude uniform in [minAbs, maxAbs) and a random sign, rounded to float;
    /// keeps inputs away from a kink at 0 (ReLU) by at least minAbs.
    /// </summary>
    public static double[] AwayFromZero(Random rng, int n, double minAbs, double maxAbs)
    {
        var values = new double[n];
        for (int i = 0; i < n; i++)
        {
            double magnitude = minAbs + (maxAbs - minAbs) * rng.NextDouble();
            values[i] = (float)(rng.Next(2) == 0 ? -magnitude : magnitude);
        }

        return values;
    }

    /// <summary>
    /// n values whose magnitude is log-uniform in [minAbs, maxAbs), with a random sign when
    /// signed is set, rounded to float; spans many decades with equal weight on each.
    /// </summary>
    public static double[] LogUniform(Random rng, int n, double minAbs, double maxAbs, bool signed)
    {
        var values = new double[n];
        double low = Math.Log(minAbs);
        double high = Math.Log(maxAbs);
        for (int i = 0; i < n; i++)
        {
            double magnitude = Math.Exp(low + (high - low) * rng.NextDouble());
            values[i] = (float)(signed && rng.Next(2) == 0 ? -magnitude : magnitude);
        }

        return values;
    }

    /// <summary>n copies of value.</summary>
    public static double[] Constant(int n, double value)
    {
        var values = new double[n];
        Array.Fill(values, value);
        return values;
    }

    /// <summary>The transpose of a rows×cols row-major matrix, as a cols×rows one.</summary>
    public static double[] Transpose(double[] x, int rows, int cols)
    {
        var t = new double[x.Length];
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < cols; j++)
            {
                t[j * rows + i] = x[i * cols + j];
            }
        }

        return t;
    }

    /// <summary>Σ_i a[i]·b[i].</summary>
    public static double Dot(double[] a, double[] b)
    {
        double sum = 0.0;
        for (int i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }
}
