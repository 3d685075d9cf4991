using Mmae.Engine;
using Mmae.Engine.Modules;
using Mmae.Kernels;
using Mmae.Kernels.Cpu;
using Xunit;

namespace Mmae.Tests.Engine;

/// <summary>
/// The three named architectures, layer by layer: every layer that changes the shape gives
/// the shape of the architecture's table, every other layer keeps its input's shape.
/// </summary>
public class ConvArchitectureTests
{
    private const int Latent = 10;

    // The shapes after each shape-changing layer (Reshape, Conv2d, ConvTranspose2d, Flatten,
    // Linear), one sample, in order: trunk, then decoder.
    private static readonly int[][] s_dsprites =
    [
        [1, 64, 64], [32, 32, 32], [64, 16, 16], [128, 8, 8], [256, 4, 4], [4096], [512],
        [512], [4096], [256, 4, 4], [128, 8, 8], [64, 16, 16], [32, 32, 32], [1, 64, 64],
    ];

    private static readonly int[][] s_shapes3d =
    [
        [3, 64, 64], [32, 32, 32], [64, 16, 16], [128, 8, 8], [256, 4, 4], [512, 2, 2], [2048],
        [1024], [512],
        [512], [1024], [2048], [512, 2, 2], [256, 4, 4], [128, 8, 8], [64, 16, 16], [32, 32, 32],
        [3, 64, 64],
    ];

    private static readonly int[][] s_celeba =
    [
        [3, 256, 256], [32, 256, 256], [64, 128, 128], [128, 64, 64], [256, 32, 32], [512, 16, 16],
        [1024, 8, 8], [2048, 4, 4], [4096, 1, 1], [4096],
        [4096], [4096, 1, 1], [2048, 4, 4], [1024, 8, 8], [512, 16, 16], [256, 32, 32],
        [128, 64, 64], [64, 128, 128], [32, 256, 256], [3, 256, 256],
    ];

    [Theory]
    [InlineData("dsprites", 512)]
    [InlineData("shapes3d", 512)]
    public void Build_SmallImages_EveryLayerHasTheTableShape(string name, int features)
    {
        var be = new CpuBackend();
        ConvNetwork net = ConvArchitectures.Build(name, be, Latent, new Rng(1));
        int[][] table = name == "dsprites" ? s_dsprites : s_shapes3d;

        // Two samples: training-mode BatchNorm2d needs two values per channel at 1×1 too.
        AssertLayerShapes(net, table, batch: 2, be);
        Assert.Equal(features, net.FeatureWidth);
    }

    [Fact]
    public void Build_CelebA_OneSampleInEvaluation_EveryLayerHasTheTableShape()
    {
        // One sample runs in evaluation mode: training-mode BatchNorm2d cannot normalise the
        // single value per channel of the 4096×1×1 layer (PyTorch refuses it too).
        var be = new CpuBackend();
        ConvNetwork net = ConvArchitectures.Build("celeba", be, Latent, new Rng(1));
        net.Trunk.Eval();
        net.Decoder.Eval();

        AssertLayerShapes(net, s_celeba, batch: 1, be);
        Assert.Equal(4096, net.FeatureWidth);
    }

    [Fact]
    public void ConvAutoencoder_Dsprites_EncodesToLatentAndReconstructsInRange()
    {
        var be = new CpuBackend();
        var model = new ConvAutoencoder(be, "dsprites", Latent, new Rng(2));
        var rng = new Rng(3);
        float[] x = Enumerable.Range(0, 2 * 64 * 64).Select(_ => (float)rng.Uniform(-1, 1)).ToArray();
        Tensor input = Tensor.FromArray(be, x, 2, 64 * 64);

        Tensor z = model.Encoder.Forward(input);
        Tensor recon = model.Decoder.Forward(z);

        Assert.Equal([2, Latent], z.Shape);
        Assert.Equal([2, 1, 64, 64], recon.Shape);
        Assert.All(recon.ToArray(), v => Assert.InRange(v, -1f, 1f));
        Assert.Contains(model.StateDict(), e => e.Name == "encoder.4.running_var");
    }

    [Fact]
    public void Build_UnknownName_ThrowsListingTheNames()
    {
        var ex = Assert.Throws<ArgumentException>(
            () => ConvArchitectures.Build("mnist", new CpuBackend(1), Latent, new Rng(1)));

        Assert.Contains("dsprites, shapes3d, celeba", ex.Message, StringComparison.Ordinal);
    }

    private static void AssertLayerShapes(ConvNetwork net, int[][] table, int batch, IBackend be)
    {
        int[] image = net.ImageShape;
        var rng = new Rng(4);
        float[] x = new float[batch * image.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)rng.Uniform(-1, 1);
        }

        Tensor t = Tensor.FromArray(be, x, [batch, .. image]);
        var changed = new List<int[]>();
        using (Autograd.NoGrad())
        {
            foreach (Module layer in net.Trunk.Layers)
            {
                t = Step(layer, t, changed);
            }

            Assert.Equal([batch, net.FeatureWidth], t.Shape);
            t = Tensor.FromArray(be, new float[batch * Latent], batch, Latent);
            foreach (Module layer in net.Decoder.Layers)
            {
                t = Step(layer, t, changed);
            }
        }

        Assert.Equal(table.Length, changed.Count);
        for (int i = 0; i < table.Length; i++)
        {
            Assert.True(changed[i].AsSpan().SequenceEqual([batch, .. table[i]]),
                $"{net.Name} shape-changing layer {i}: expected (N, {string.Join(", ", table[i])}), "
                + $"got ({string.Join(", ", changed[i])})");
        }

        Assert.Equal([batch, .. image], t.Shape);
    }

    private static Tensor Step(Module layer, Tensor input, List<int[]> changed)
    {
        Tensor output = layer.Forward(input);
        if (layer is Reshape or Conv2d or ConvTranspose2d or Flatten or Linear)
        {
            changed.Add(output.Shape);
        }
        else
        {
            Assert.Equal(input.Shape, output.Shape);
        }

        return output;
    }
}
