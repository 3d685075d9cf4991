using Mmae.Engine;
using Mmae.Engine.Modules;
using Mmae.Engine.Optim;
using Mmae.Kernels;
using Mmae.Kernels.Cpu;
using Mmae.Kernels.Scalar;
using Xunit;

namespace Mmae.Tests.Engine;

/// <summary>The SIMD backend against the float64 oracle, and against itself on other thread counts.</summary>
public class BackendAgreementTests
{
    // Float32 kernels against float64 ones: every parameter gradient of one forward and
    // backward pass agrees to 1e-3 of that tensor's largest gradient. Float32 rounding through
    // a few layers stays near 1e-6 of it; a wrong kernel is off by order 1. (Comparing weights
    // after Adam steps would not work: a bias followed by batch norm has an exactly zero
    // gradient, whose rounding noise Adam turns into full-size steps of either sign.)
    private const double RelativeToMax = 1e-3;

    [Fact]
    public void Gradients_CpuMatchesScalarOracle()
    {
        List<double[]> cpu = Gradients(new CpuBackend(2));
        List<double[]> oracle = Gradients(new ScalarBackend());
        // Tensors whose exact gradient is zero (biases before batch norm) hold rounding noise
        // only; bound it by the model's largest gradient times float32's relative precision.
        double floor = 1e-6 * oracle.Max(g => g.Max(Math.Abs));
        for (int t = 0; t < cpu.Count; t++)
        {
            double max = oracle[t].Max(Math.Abs);
            for (int i = 0; i < cpu[t].Length; i++)
            {
                Assert.True(Math.Abs(cpu[t][i] - oracle[t][i]) <= RelativeToMax * max + floor,
                    $"parameter tensor {t}, element {i}: oracle {oracle[t][i]:R}, cpu {cpu[t][i]:R}");
            }
        }
    }

    private static List<double[]> Gradients(IBackend be)
    {
        var rng = new Rng(5);
        var model = new DeepAutoencoder(be, 20, 3, new Rng(6), [16, 8]);
        var x = Tensor.FromArray(be, GradientCheck.Random(rng, 12 * 20, 0.5), 12, 20);
        var e = Tensor.FromArray(be, GradientCheck.Random(rng, 12 * 2), 12, 2);
        Tensor z = model.Encoder.Forward(x);
        (Losses.Mse(model.Decoder.Forward(z), x) + 1f * Losses.ManifoldMatch(z, e)).Backward();
        return model.Parameters().Select(p => p.GradToDoubleArray()!).ToList();
    }

    [Fact]
    public void TrainingSteps_OneAndTwoThreads_BitIdentical()
    {
        // Sizes large enough that GEMM, batch norm and the elementwise kernels all split work.
        double[] one = Run(new CpuBackend(1), width: 300, batch: 130);
        double[] two = Run(new CpuBackend(2), width: 300, batch: 130);
        Assert.Equal(one, two);
    }

    private static double[] Run(IBackend be, int width = 20, int batch = 12)
    {
        var rng = new Rng(5);
        var model = new DeepAutoencoder(be, width, 3, new Rng(6), [16, 8]);
        var adam = new Adam(model.Parameters());
        var x = Tensor.FromArray(be, GradientCheck.Random(rng, batch * width, 0.5), batch, width);
        var e = Tensor.FromArray(be, GradientCheck.Random(rng, batch * 2), batch, 2);
        for (int s = 0; s < 3; s++)
        {
            adam.ZeroGrad();
            Tensor z = model.Encoder.Forward(x);
            (Losses.Mse(model.Decoder.Forward(z), x) + 1f * Losses.ManifoldMatch(z, e)).Backward();
            adam.Step();
        }

        return model.Parameters().SelectMany(p => p.ToDoubleArray()).ToArray();
    }
}
