using Mmae.Engine;
using Mmae.Engine.Modules;
using Mmae.Kernels.Cpu;
using Xunit;

namespace Mmae.Tests.Engine;

/// <summary>The convolutional layers: dropout behaviour, shape errors, PyTorch names.</summary>
public class ConvLayerTests
{
    [Fact]
    public void Dropout_Training_ZeroesAboutPAndScalesTheRest()
    {
        var be = new CpuBackend(1);
        var layer = new Dropout(0.25, new Rng(3));
        var x = Tensor.FromArray(be, Enumerable.Repeat(1f, 8000).ToArray(), 80, 100);

        float[] y = layer.Forward(x).ToArray();

        int zeros = y.Count(v => v == 0f);
        Assert.All(y, v => Assert.True(v == 0f || Math.Abs(v - 1f / 0.75f) < 1e-6f, $"value {v}"));
        // Binomial(8000, 0.25): mean 2000, standard deviation 39; six of them is never hit by chance.
        Assert.InRange(zeros, 2000 - 6 * 39, 2000 + 6 * 39);
    }

    [Fact]
    public void Dropout_SameSeed_SameMask()
    {
        var be = new CpuBackend(1);
        var x = Tensor.FromArray(be, Enumerable.Range(1, 300).Select(v => (float)v).ToArray(), 3, 100);

        float[] a = new Dropout(0.5, new Rng(11)).Forward(x).ToArray();
        float[] b = new Dropout(0.5, new Rng(11)).Forward(x).ToArray();
        float[] c = new Dropout(0.5, new Rng(12)).Forward(x).ToArray();

        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Dropout_Eval_IsIdentity()
    {
        var be = new CpuBackend(1);
        var layer = new Dropout(0.9, new Rng(3));
        layer.Eval();
        var x = Tensor.FromArray(be, [1f, -2f, 3f, 4f], 2, 2);

        Assert.Equal(x.ToArray(), layer.Forward(x).ToArray());
    }

    [Fact]
    public void Dropout_ProbabilityOutsideUnitInterval_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout(1.5, new Rng(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout(double.NaN, new Rng(1)));
    }

    [Fact]
    public void Conv2d_FlatInput_ThrowsNamingTheShape()
    {
        var be = new CpuBackend(1);
        var conv = new Conv2d(be, 3, 4, 3, 1, 1, new Rng(1));
        var x = Tensor.Zeros(be, 2, 27);

        var ex = Assert.Throws<ArgumentException>(() => conv.Forward(x));
        Assert.Contains("(2, 27)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Conv2d_ChannelMismatch_Throws()
    {
        var be = new CpuBackend(1);
        var conv = new Conv2d(be, 3, 4, 3, 1, 1, new Rng(1));

        var ex = Assert.Throws<ArgumentException>(() => conv.Forward(Tensor.Zeros(be, 1, 2, 5, 5)));
        Assert.Contains("2 channels", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Conv2d_WindowLargerThanPaddedInput_Throws()
    {
        var be = new CpuBackend(1);
        var conv = new Conv2d(be, 1, 1, 5, 1, 0, new Rng(1));

        Assert.Throws<ArgumentException>(() => conv.Forward(Tensor.Zeros(be, 1, 1, 3, 3)));
    }

    [Fact]
    public void ConvTranspose2d_OutputPaddingNotBelowStride_Throws()
    {
        var be = new CpuBackend(1);

        Assert.Throws<ArgumentOutOfRangeException>(() => new ConvTranspose2d(be, 2, 2, 3, 2, 1, new Rng(1), 2));
    }

    [Fact]
    public void BatchNorm2d_TrainingOnOneValuePerChannel_Throws()
    {
        var be = new CpuBackend(1);

        Assert.Throws<ArgumentException>(() => new BatchNorm2d(be, 3).Forward(Tensor.Zeros(be, 1, 3, 1, 1)));
    }

    [Fact]
    public void Reshape_WrongCount_Throws()
    {
        var be = new CpuBackend(1);

        Assert.Throws<ArgumentException>(() => new Reshape(3, 4, 4).Forward(Tensor.Zeros(be, 2, 47)));
        Assert.Throws<ArgumentException>(() => new Reshape(3, 0));
    }

    [Fact]
    public void ConvLayers_StateDictNames_FollowPyTorch()
    {
        var be = new CpuBackend(1);
        var net = new Sequential([new Conv2d(be, 1, 2, 3, 1, 1, new Rng(1)), new BatchNorm2d(be, 2),
            new ConvTranspose2d(be, 2, 5, 4, 2, 1, new Rng(2))]);

        string[] names = net.StateDict().Select(e => e.Name).ToArray();

        Assert.Equal(
            ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "2.weight", "2.bias"],
            names);
        Assert.Equal([2, 5, 4, 4], ((ConvTranspose2d)net.Layers[2]).Weight.Shape);
    }

    [Fact]
    public void ConvInit_Bounds_FollowPyTorchFanIn()
    {
        var be = new CpuBackend(1);
        var conv = new Conv2d(be, 3, 8, 3, 1, 1, new Rng(1));
        var convT = new ConvTranspose2d(be, 8, 2, 4, 2, 1, new Rng(1));

        // Conv2d: fan-in in·k² = 27; ConvTranspose2d: PyTorch reads fan-in from dim 1, out·k² = 32.
        AssertBound(conv.Weight.ToArray(), 1 / Math.Sqrt(27));
        AssertBound(convT.Weight.ToArray(), 1 / Math.Sqrt(32));
        Assert.All(convT.Bias.ToArray(), v => Assert.InRange(Math.Abs(v), 0, 1 / Math.Sqrt(32)));
    }

    private static void AssertBound(float[] values, double bound)
    {
        Assert.All(values, v => Assert.InRange(Math.Abs(v), 0, bound));
        // Hundreds of draws fill the interval: the largest is near the bound, not a smaller one.
        Assert.True(values.Max(Math.Abs) > 0.9 * bound, $"max |value| {values.Max(Math.Abs)}, bound {bound}");
    }
}
