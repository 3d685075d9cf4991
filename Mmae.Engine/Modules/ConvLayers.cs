using Mmae.Kernels;

namespace Mmae.Engine.Modules;

/// <summary>2-D convolution over (N, C, H, W) with PyTorch's layout, names and initialisation.
/// </summary>
/// <remarks>
/// Limitation: square kernels with one stride and one padding for both axes, no dilation and
/// no groups (what the image architectures use); PyTorch's tuple forms would need a
/// ConvGeometry per axis. The forward pass keeps the batch's column matrix (channels·k² ×
/// N·OH·OW values) for the backward pass.
/// </remarks>
public sealed class Conv2d : Module
{
    /// <summary>
    /// Weight (out, in, k, k) and bias (out) uniform in ±1/sqrt(in·k²), PyTorch's default
    /// (kaiming_uniform_ with a = √5 and its fan-in bias bound); weight drawn first.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size or the stride is below 1, or the
    /// padding is negative.</exception>
    public Conv2d(
        IBackend backend,
        int inChannels,
        int outChannels,
        int kernel,
        int stride,
        int padding,
        Rng rng,
        bool bias = true)
    {
        CheckSizes(inChannels, outChannels, kernel, stride, padding);
        InChannels = inChannels;
        OutChannels = outChannels;
        Kernel = kernel;
        Stride = stride;
        Padding = padding;
        double bound = 1.0 / Math.Sqrt(inChannels * kernel * kernel);
        Weight = ConvInit.Uniform(backend, rng, bound, "weight", outChannels, inChannels, kernel, kernel);
        Bias = bias ? ConvInit.Uniform(backend, rng, bound, "bias", outChannels) : null;
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Window side k.</summary>
    public int Kernel { get; }

    /// <summary>Step between windows.</summary>
    public int Stride { get; }

    /// <summary>Zeros added on each side.</summary>
    public int Padding { get; }

    /// <summary>Weight, (out, in, k, k).</summary>
    public Tensor Weight { get; }

    /// <summary>Bias, (out), or null.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Ops.Conv2d(input, Weight, Bias, Stride, Padding);

    /// <inheritdoc/>
    protected override IEnumerable<(string Name, Tensor Tensor)> OwnParameters() =>
        Bias is null ? [("weight", Weight)] : [("weight", Weight), ("bias", Bias)];

    internal static void CheckSizes(int inChannels, int outChannels, int kernel, int stride, int padding)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(kernel, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
    }
}

/// <summary>
/// 2-D transposed convolution with PyTorch's weight layout (in, out, k, k), names and
/// initialisation; output side (H − 1)·stride − 2·padding + k + outputPadding.
/// </summary>
public sealed class ConvTranspose2d : Module
{
    /// <summary>
    /// Weight and bias uniform in ±1/sqrt(out·k²): PyTorch computes the fan-in of this layer
    /// from the weight's second dimension, which is the output channels here.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size or the stride is below 1, the
    /// padding is negative, or outputPadding is not in [0, stride).</exception>
    public ConvTranspose2d(
        IBackend backend,
        int inChannels,
        int outChannels,
        int kernel,
        int stride,
        int padding,
        Rng rng,
        int outputPadding = 0)
    {
        Conv2d.CheckSizes(inChannels, outChannels, kernel, stride, padding);
        ArgumentOutOfRangeException.ThrowIfNegative(outputPadding);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(outputPadding, stride);
        InChannels = inChannels;
        OutChannels = outChannels;
        Kernel = kernel;
        Stride = stride;
        Padding = padding;
        OutputPadding = outputPadding;
        double bound = 1.0 / Math.Sqrt(outChannels * kernel * kernel);
        Weight = ConvInit.Uniform(backend, rng, bound, "weight", inChannels, outChannels, kernel, kernel);
        Bias = ConvInit.Uniform(backend, rng, bound, "bias", outChannels);
    }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Window side k.</summary>
    public int Kernel { get; }

    /// <summary>Stride of the convolution this is the adjoint of.</summary>
    public int Stride { get; }

    /// <summary>Padding of the convolution this is the adjoint of.</summary>
    public int Padding { get; }

    /// <summary>Extra rows and columns added at the bottom and right of the output.</summary>
    public int OutputPadding { get; }

    /// <summary>Weight, (in, out, k, k).</summary>
    public Tensor Weight { get; }

    /// <summary>Bias, (out).</summary>
    public Tensor Bias { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) =>
        Ops.ConvTranspose2d(input, Weight, Bias, Stride, Padding, OutputPadding);

    /// <inheritdoc/>
    protected override IEnumerable<(string Name, Tensor Tensor)> OwnParameters() =>
        [("weight", Weight), ("bias", Bias)];
}

/// <summary>Batch normalisation per channel of (N, C, H, W), statistics over N·H·W.</summary>
public sealed class BatchNorm2d : BatchNormBase
{
    /// <summary>gamma = 1, beta = 0, running mean 0, running variance 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">channels is below 1.</exception>
    public BatchNorm2d(IBackend backend, int channels, BatchNormOptions? options = null)
        : base(backend, channels, options)
    {
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Ops.BatchNorm2d(
        input, Gamma, Beta, RunningMean, RunningVar, Training, Options.Momentum, Options.Eps);
}

/// <summary>y = x &gt; 0 ? x : slope·x.</summary>
/// <param name="slope">The gradient below zero; 0.2 by default.</param>
public sealed class LeakyRelu(float slope = 0.2f) : Module
{
    /// <summary>The gradient below zero.</summary>
    public float Slope { get; } = slope;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Ops.LeakyRelu(input, Slope);
}

/// <summary>
/// Inverted dropout: in training, zeroes each element with probability p and scales the rest
/// by 1/(1 − p); in evaluation, the identity.
/// </summary>
public sealed class Dropout : Module
{
    private readonly Rng _rng;

    /// <summary>A dropout layer drawing its masks from <paramref name="rng"/>, so a seeded run
    /// repeats exactly.</summary>
    /// <exception cref="ArgumentOutOfRangeException">p is outside [0, 1].</exception>
    public Dropout(double p, Rng rng)
    {
        if (!(p >= 0 && p <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout: expected a probability in [0, 1].");
        }

        P = p;
        _rng = rng;
    }

    /// <summary>Probability of zeroing an element.</summary>
    public double P { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Ops.Dropout(input, P, _rng, Training);
}

/// <summary>(N, d1, d2, …) → (N, d1·d2·…), the form Linear takes.</summary>
public sealed class Flatten : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Ops.Reshape(input, input.Rows, input.Cols);
}

/// <summary>(N, …) → (N, shapeAfterBatch…), for example flat features into (N, C, H, W).</summary>
public sealed class Reshape : Module
{
    private readonly int[] _shape;

    /// <summary>The shape of one sample after the layer.</summary>
    /// <exception cref="ArgumentException">The shape is empty or has a size below 1.</exception>
    public Reshape(params int[] shapeAfterBatch)
    {
        if (shapeAfterBatch.Length == 0 || shapeAfterBatch.Any(d => d < 1))
        {
            throw new ArgumentException(
                $"Reshape: expected positive sizes after the batch, got {ShapeUtil.Format(shapeAfterBatch)}.",
                nameof(shapeAfterBatch));
        }

        _shape = (int[])shapeAfterBatch.Clone();
    }

    /// <summary>The shape of one sample after the layer.</summary>
    public IReadOnlyList<int> ShapeAfterBatch => _shape;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Ops.Reshape(input, [input.Rows, .. _shape]);
}

// Parameters drawn uniform in ±bound as floats: the largest layers (CelebA's 4096-channel conv
// holds 134M weights) would need a second, double-sized host copy otherwise.
internal static class ConvInit
{
    public static Tensor Uniform(IBackend backend, Rng rng, double bound, string name, params int[] shape)
    {
        var values = new float[ShapeUtil.Count(shape)];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)rng.Uniform(-bound, bound);
        }

        Tensor t = Tensor.FromArray(backend, values, shape);
        t.RequiresGrad = true;
        t.Name = name;
        return t;
    }
}
