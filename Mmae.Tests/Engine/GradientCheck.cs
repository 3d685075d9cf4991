using Mmae.Engine;
using Mmae.Kernels;
using Mmae.Kernels.Scalar;
using Xunit;

namespace Mmae.Tests.Engine;

/// <summary>
/// Compares autograd gradients with central finite differences, everything in float64 on the
/// scalar oracle backend.
/// </summary>
internal static class GradientCheck
{
    // Central differences in float64 have error ~h² (truncation) + eps/h (rounding); h = 1e-5
    // balances them near 1e-10 for the smooth ops here, far below the tolerances below.
    private const double Step = 1e-5;

    // Relative tolerance: loose enough for the O(h²) truncation on curved losses, tight
    // enough that a wrong factor or a missing term (errors of order 1) cannot pass.
    private const double RelativeTolerance = 1e-6;

    // Absolute floor for gradients that are legitimately ~0 (e.g. symmetric cancellations).
    private const double AbsoluteTolerance = 1e-8;

    public static readonly IBackend Backend = new ScalarBackend();

    /// <summary>Fresh standard-normal values from a seeded generator.</summary>
    public static double[] Random(Rng rng, int count, double scale = 1.0)
    {
        var v = new double[count];
        for (int i = 0; i < count; i++)
        {
            v[i] = scale * rng.NextGaussian();
        }

        return v;
    }

    /// <summary>
    /// Checks d f / d inputs[i] for every input. f receives leaf tensors built from the
    /// arrays and must return a scalar.
    /// </summary>
    public static void Check(
        Func<Tensor[], Tensor> f,
        double[][] values,
        int[][] shapes,
        bool[]? differentiate = null)
    {
        Tensor[] leaves = Leaves(values, shapes, differentiate);
        Tensor loss = f(leaves);
        Assert.Equal(1, loss.Length);
        loss.Backward();

        for (int a = 0; a < values.Length; a++)
        {
            if (differentiate is not null && !differentiate[a])
            {
                continue;
            }

            double[] analytic = leaves[a].GradToDoubleArray() ?? new double[values[a].Length];
            for (int i = 0; i < values[a].Length; i++)
            {
                double keep = values[a][i];
                values[a][i] = keep + Step;
                double up = f(Leaves(values, shapes, null)).Item();
                values[a][i] = keep - Step;
                double down = f(Leaves(values, shapes, null)).Item();
                values[a][i] = keep;
                double numeric = (up - down) / (2 * Step);
                double err = Math.Abs(numeric - analytic[i]);
                double scale = Math.Max(Math.Abs(numeric), Math.Abs(analytic[i]));
                double allowed = AbsoluteTolerance + RelativeTolerance * scale;
                Assert.True(err <= allowed,
                    $"input {a}, index {i}: finite difference {numeric:R}, autograd {analytic[i]:R}, "
                    + $"|diff| {err:E3} > {allowed:E3}");
            }
        }
    }

    private static Tensor[] Leaves(double[][] values, int[][] shapes, bool[]? differentiate)
    {
        var leaves = new Tensor[values.Length];
        for (int a = 0; a < values.Length; a++)
        {
            leaves[a] = Tensor.FromArray(Backend, values[a], shapes[a]);
            leaves[a].RequiresGrad = differentiate?[a] ?? true;
        }

        return leaves;
    }
}
