using Mmae.Engine;
using Mmae.Engine.Modules;
using Mmae.Engine.Optim;
using Mmae.Kernels.Cpu;
using Xunit;

namespace Mmae.Tests.Engine;

public class WorkspaceTests
{
    [Fact]
    public void TrainingSteps_InWorkspace_ReuseBuffersAndMatchPlainSteps()
    {
        double[] Train(bool pooled, out int[] bufferCounts)
        {
            var be = new CpuBackend(2);
            var rng = new Rng(3);
            var model = new DeepAutoencoder(be, 30, 4, new Rng(4), [20, 10]);
            var adam = new Adam(model.Parameters());
            var ws = new Workspace(be);
            float[] x = GradientCheck.Random(rng, 16 * 30).Select(v => (float)v).ToArray();
            float[] e = GradientCheck.Random(rng, 16 * 3).Select(v => (float)v).ToArray();
            bufferCounts = new int[4];
            for (int s = 0; s < 4; s++)
            {
                using (pooled ? ws.Step() : null)
                {
                    Tensor xt = Tensor.Input(be, x, 16, 30);
                    Tensor et = Tensor.Input(be, e, 16, 3);
                    adam.ZeroGrad();
                    Tensor z = model.Encoder.Forward(xt);
                    (Losses.Mse(model.Decoder.Forward(z), xt) + 0.5f * Losses.ManifoldMatch(z, et)).Backward();
                    adam.Step();
                }

                bufferCounts[s] = ws.BufferCount;
            }

            return model.Parameters().SelectMany(p => p.ToDoubleArray()).ToArray();
        }

        double[] plain = Train(false, out _);
        double[] pooled = Train(true, out int[] counts);

        // Recycled buffers hold stale values from the last step; results must not notice.
        Assert.Equal(plain, pooled);
        Assert.True(counts[0] > 0);
        Assert.Equal(counts[1], counts[3]);
    }

    [Fact]
    public void Step_WhileAnotherIsActive_Throws()
    {
        var be = new CpuBackend(1);
        var a = new Workspace(be);
        var b = new Workspace(be);
        using (a.Step())
        {
            Assert.Throws<InvalidOperationException>(() => b.Step());
        }

        using (b.Step())
        {
        }
    }
}
