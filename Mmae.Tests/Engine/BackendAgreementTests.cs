using Mmae.Engine;
using Mmae.Engine.Modules;
using Mmae.Engine.Optim;
using Mmae.Kernels;
using Mmae.Kernels.Cpu;
using Mmae.Kernels.Scalar;
using Xunit;

namespace Mmae.Tests.Engine;

/// <summary>A whole training step gives the same parameters on the SIMD and the oracle backend.</summary>
public class BackendAgreementTests
{
    // Float32 kernels against float64 ones after three Adam steps: Adam's normalised step
    // (≈ lr per element) bounds how far rounding can move a parameter; 1e-4 absolute with lr 1e-3
    // catches any kernel error of consequence.
    private const double Tolerance = 1e-4;

    [Fact]
    public void TrainingSteps_CpuMatchesScalarOracle()
    {
        double[] cpu = Run(new CpuBackend(2));
        double[] oracle = Run(new ScalarBackend());
        Assert.Equal(oracle.Length, cpu.Length);
        for (int i = 0; i < cpu.Length; i++)
        {
            Assert.True(Math.Abs(cpu[i] - oracle[i]) <= Tolerance,
                $"parameter {i}: oracle {oracle[i]:R}, cpu {cpu[i]:R}");
        }
    }

    [Fact]
    public void TrainingSteps_OneAndTwoThreads_BitIdentical()
    {
        // Sizes large enough that GEMM, batch norm and the elementwise kernels all split work.
        double[] one = Run(new CpuBackend(1), width: 300, batch: 70);
        double[] two = Run(new CpuBackend(2), width: 300, batch: 70);
        Assert.Equal(one, two);
    }

    private static double[] Run(IBackend be, int width = 20, int batch = 12)
    {
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
