using Mmae.Engine;
using Mmae.Kernels;
using Mmae.Kernels.Cpu;
using Mmae.Kernels.Scalar;
using Xunit;

namespace Mmae.Tests.Engine;

/// <summary>
/// Conv2d and ConvTranspose2d on the CPU backend, whose products gather the column matrix as
/// they pack it and multiply out the transposed products a few samples at a time, against the
/// float64 oracle, which stores every column matrix: outputs and the gradients of input,
/// weight and bias after an MSE head.
/// </summary>
public class ConvBackendAgreementTests
{
    // Float32 sums of a few hundred products of O(1) values against float64 ones.
    private const double RelativeToMax = 1e-4;

    /// <summary>(N, C, H, W, O, k, s, p): planes of 256 and of 16 windows (the CPU's two routes
    /// for transposed products), odd sides with stride 1, a stride that skips columns, and a
    /// window the stride does not divide (whose transposed convolution needs output padding).</summary>
    public static TheoryData<int, int, int, int, int, int, int, int> Shapes() => new()
    {
        { 3, 4, 32, 32, 6, 4, 2, 1 },
        { 2, 3, 8, 8, 5, 4, 2, 1 },
        { 2, 3, 7, 6, 4, 3, 1, 1 },
        { 2, 2, 9, 8, 3, 3, 3, 2 },
        { 2, 3, 8, 8, 4, 3, 2, 1 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Conv2d_CpuMatchesScalarOracle(int n, int c, int h, int w, int o, int k, int s, int p)
    {
        int[][] shapes = [[n, c, h, w], [o, c, k, k], [o]];
        AssertAgree(t => Ops.Conv2d(t[0], t[1], t[2], s, p), shapes, seed: n + c + h + s);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ConvTranspose2d_CpuMatchesScalarOracle(int n, int c, int h, int w, int o, int k, int s, int p)
    {
        // The transposed convolution that maps this shape's output back to (N, C, H, W)-sized
        // images; output padding makes up the sides that the stride rounds away.
        int oh = ConvGeometry.OutputSize(h, k, s, p), ow = ConvGeometry.OutputSize(w, k, s, p);
        int padH = h - ((oh - 1) * s - 2 * p + k), padW = w - ((ow - 1) * s - 2 * p + k);
        int outputPadding = Math.Min(padH, padW);
        int[][] shapes = [[n, o, oh, ow], [o, c, k, k], [c]];
        AssertAgree(t => Ops.ConvTranspose2d(t[0], t[1], t[2], s, p, outputPadding), shapes, seed: 7 * n + h + s);
    }

    private static void AssertAgree(Func<Tensor[], Tensor> op, int[][] shapes, int seed)
    {
        var rng = new Rng((ulong)seed);
        double[][] values = shapes.Select(shape => GradientCheck.Random(rng, shape.Aggregate(1, (a, b) => a * b)))
            .ToArray();
        List<double[]> oracle = Run(new ScalarBackend(), op, values, shapes, seed);
        foreach (int threads in new[] { 1, 2 })
        {
            List<double[]> test = Run(new CpuBackend(threads), op, values, shapes, seed);
            string[] names = ["output", "input gradient", "weight gradient", "bias gradient"];
            for (int t = 0; t < oracle.Count; t++)
            {
                double max = oracle[t].Max(Math.Abs);
                for (int i = 0; i < oracle[t].Length; i++)
                {
                    Assert.True(Math.Abs(test[t][i] - oracle[t][i]) <= RelativeToMax * max,
                        $"{names[t]}[{i}] on {threads} threads: oracle {oracle[t][i]:R}, cpu {test[t][i]:R}");
                }
            }
        }
    }

    // The output, then the gradients of the inputs, for one forward and backward pass.
    private static List<double[]> Run(
        IBackend be, Func<Tensor[], Tensor> op, double[][] values, int[][] shapes, int seed)
    {
        Tensor[] leaves = values.Select((v, a) =>
        {
            Tensor leaf = Tensor.FromArray(be, v, shapes[a]);
            leaf.RequiresGrad = true;
            return leaf;
        }).ToArray();
        Tensor y = op(leaves);
        double[] target = GradientCheck.Random(new Rng((ulong)seed + 1), y.Length);
        Losses.Mse(y, Tensor.FromArray(be, target, y.Shape)).Backward();
        return [y.ToDoubleArray(), .. leaves.Select(l => l.GradToDoubleArray()!)];
    }
}
