using System.Buffers;

namespace Mmae.Engine;

// The shape-free ops of the convolutional networks: LeakyReLU, dropout and reshape.
public static partial class Ops
{
    /// <summary>y = x &gt; 0 ? x : slope·x.</summary>
    public static Tensor LeakyRelu(Tensor x, float slope)
    {
        var be = x.Backend;
        var y = Tensor.Empty(be, x.Shape);
        be.LeakyRelu(x.Data, slope, y.Data);

        // dx = dy where x > 0, else slope·dy.
        return Autograd.Record(y, nameof(LeakyRelu), [x], dy =>
        {
            var dx = Workspace.Rent(be, x.Length);
            be.LeakyReluBackward(x.Data, dy, slope, dx);
            Autograd.Accumulate(x, dx, owned: true);
        });
    }

    /// <summary>
    /// Inverted dropout: y = x·mask with mask[i] = 0 with probability p, else 1/(1 − p), drawn
    /// from <paramref name="rng"/> in element order; the identity when not training or p = 0.
    /// </summary>
    /// <remarks>The mask is drawn on the host and copied to the device, so a run repeats
    /// exactly from the same seed on any backend. p = 1 zeroes everything, as PyTorch does.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">p is outside [0, 1].</exception>
    public static Tensor Dropout(Tensor x, double p, Rng rng, bool training)
    {
        if (!(p >= 0 && p <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout: expected a probability in [0, 1].");
        }

        if (!training || p == 0)
        {
            return x;
        }

        var be = x.Backend;
        float keep = p < 1 ? (float)(1.0 / (1.0 - p)) : 0f;
        float[] host = ArrayPool<float>.Shared.Rent(x.Length);
        for (int i = 0; i < x.Length; i++)
        {
            host[i] = rng.NextDouble() < p ? 0f : keep;
        }

        var mask = Workspace.Rent(be, x.Length);
        be.Write(host.AsSpan(0, x.Length), mask);
        ArrayPool<float>.Shared.Return(host);
        var y = Tensor.Empty(be, x.Shape);
        be.Multiply(x.Data, mask, y.Data);

        // dx = dy·mask.
        return Autograd.Record(y, nameof(Dropout), [x], dy =>
        {
            var dx = Workspace.Rent(be, x.Length);
            be.Multiply(dy, mask, dx);
            Autograd.Accumulate(x, dx, owned: true);
        });
    }

    /// <summary>The same elements under another shape of equal size (no copy).</summary>
    /// <exception cref="ArgumentException">The shapes hold different numbers of elements.</exception>
    public static Tensor Reshape(Tensor x, params int[] shape)
    {
        if (ShapeUtil.Count(shape) != x.Length)
        {
            throw new ArgumentException(
                $"Reshape: cannot view {ShapeUtil.Format(x.Shape)} ({x.Length} elements) as "
                + $"{ShapeUtil.Format(shape)} ({ShapeUtil.Count(shape)} elements).");
        }

        var y = new Tensor(x.Data, (int[])shape.Clone());

        // The gradient is the same elements under the input's shape.
        return Autograd.Record(y, nameof(Reshape), [x], dy => Autograd.Accumulate(x, dy, owned: false));
    }
}
