using Mmae.Engine;
using Mmae.Engine.Modules;
using Mmae.Engine.Optim;
using Mmae.Kernels;
using Mmae.Kernels.Cpu;
using Mmae.Kernels.Scalar;
using Mmae.Tests.Kernels;
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
        AssertGradientsAgree(new CpuBackend(2), MatchDistance.Squared);
    }

    /// <summary>
    /// Every parameter gradient of one forward and backward pass on <paramref name="be"/>
    /// agrees with the float64 oracle's to <see cref="RelativeToMax"/> of that tensor's largest.
    /// </summary>
    internal static void AssertGradientsAgree(IBackend be, MatchDistance distance)
    {
        List<double[]> test = Gradients(be, distance);
        List<double[]> oracle = Gradients(new ScalarBackend(), distance);
        // Tensors whose exact gradient is zero (biases before batch norm) hold rounding noise
        // only; bound it by the model's largest gradient times float32's relative precision.
        double floor = 1e-6 * oracle.Max(g => g.Max(Math.Abs));
        for (int t = 0; t < test.Count; t++)
        {
            double max = oracle[t].Max(Math.Abs);
            for (int i = 0; i < test[t].Length; i++)
            {
                Assert.True(Math.Abs(test[t][i] - oracle[t][i]) <= RelativeToMax * max + floor,
                    $"{distance} parameter tensor {t}, element {i}: oracle {oracle[t][i]:R}, "
                    + $"{be.Name} {test[t][i]:R}");
            }
        }
    }

    /// <summary>
    /// Two Adam steps on <paramref name="be"/> give the same losses as on the CPU backend.
    /// </summary>
    internal static void AssertTrainingAgreesWithCpu(IBackend be)
    {
        var test = Train(be, 20, 12, MatchDistance.Squared, steps: 2);
        var cpu = Train(new CpuBackend(2), 20, 12, MatchDistance.Squared, steps: 2);

        // Losses, not weights: a bias before batch norm has an exactly zero gradient whose
        // rounding noise Adam turns into ±lr steps that differ between any two backends (up to
        // 2e-3 here) but that batch norm removes, so the loss never sees them. Both backends
        // are float32 with float64 sums in different orders; the GPU kernels on ILGPU's CPU
        // accelerator agreed to 1e-7 relative when this was written. 1e-5 leaves room for
        // other sum orders, while one Adam step changes this loss by about 4%, so a wrong
        // update (a missing bias correction, a swapped moment) shows up hundreds of times over.
        const double relativeTolerance = 1e-5;
        for (int s = 0; s < cpu.Losses.Length; s++)
        {
            double allowed = relativeTolerance * Math.Abs(cpu.Losses[s]);
            Assert.True(
                Math.Abs(test.Losses[s] - cpu.Losses[s]) <= allowed,
                $"loss after {s} steps: cpu {cpu.Losses[s]:R}, {be.Name} {test.Losses[s]:R}");
        }
    }

    private static List<double[]> Gradients(IBackend be, MatchDistance distance)
    {
        var rng = new Rng(5);
        var model = new DeepAutoencoder(be, 20, 3, new Rng(6), [16, 8]);
        var x = Tensor.FromArray(be, GradientCheck.Random(rng, 12 * 20, 0.5), 12, 20);
        var e = Tensor.FromArray(be, GradientCheck.Random(rng, 12 * 2), 12, 2);
        Objective(model, x, e, distance).Backward();
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

    /// <summary>L = MSE(decode(encode(x)), x) + L_mm(encode(x), e).</summary>
    private static Tensor Objective(DeepAutoencoder model, Tensor x, Tensor e, MatchDistance distance)
    {
        Tensor z = model.Encoder.Forward(x);
        return Losses.Mse(model.Decoder.Forward(z), x) + 1f * Losses.ManifoldMatch(z, e, distance);
    }

    private static double[] Run(IBackend be, int width = 20, int batch = 12) =>
        Train(be, width, batch, MatchDistance.Squared, steps: 3).Parameters;

    /// <summary>
    /// Adam steps of a small model on one batch: the loss before each step and after the last
    /// (steps + 1 values), and the parameters after the last step.
    /// </summary>
    internal static (double[] Losses, double[] Parameters) Train(
        IBackend be,
        int width,
        int batch,
        MatchDistance distance,
        int steps)
    {
        var rng = new Rng(5);
        var model = new DeepAutoencoder(be, width, 3, new Rng(6), [16, 8]);
        var adam = new Adam(model.Parameters());
        var x = Tensor.FromArray(be, GradientCheck.Random(rng, batch * width, 0.5), batch, width);
        var e = Tensor.FromArray(be, GradientCheck.Random(rng, batch * 2), batch, 2);
        var losses = new double[steps + 1];
        for (int s = 0; s < losses.Length; s++)
        {
            adam.ZeroGrad();
            Tensor loss = Objective(model, x, e, distance);
            losses[s] = loss.Item();
            if (s < losses.Length - 1)
            {
                loss.Backward();
                adam.Step();
            }
        }

        return (losses, model.Parameters().SelectMany(p => p.ToDoubleArray()).ToArray());
    }
}

/// <summary>
/// The GPU backend's kernels, run by the engine on ILGPU's CPU accelerator: a whole forward and
/// backward pass against the float64 oracle, and training steps against the CPU backend.
/// </summary>
/// <remarks>Squared distances only, to keep the emulator's time down: the plain-distance
/// kernels are checked on their own in <see cref="IlgpuCpuMatchLossAccuracyTests"/>, and the
/// device tests run the engine with both.</remarks>
[Collection(IlgpuCpuCollection.Name)]
public sealed class IlgpuCpuAgreementTests(IlgpuCpuFixture fixture)
{
    [Fact]
    public void Gradients_IlgpuCpuMatchesScalarOracle()
    {
        BackendAgreementTests.AssertGradientsAgree(fixture.Backend, MatchDistance.Squared);
    }

    [Fact]
    public void TrainingSteps_IlgpuCpuMatchesCpu()
    {
        BackendAgreementTests.AssertTrainingAgreesWithCpu(fixture.Backend);
    }
}
