using Mmae.Kernels;

namespace Mmae.Engine.Modules;

/// <summary>y = x·Wᵀ + b with PyTorch's default initialisation.</summary>
public sealed class Linear : Module
{
    /// <summary>
    /// W (out×in) and b (out) uniform in ±1/sqrt(in): PyTorch's kaiming_uniform_(a = √5) for
    /// the weight and its fan-in bound for the bias, so runs compare with the PyTorch model.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1.</exception>
    public Linear(IBackend backend, int inFeatures, int outFeatures, Rng rng, bool bias = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inFeatures, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outFeatures, 1);
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        double bound = 1.0 / Math.Sqrt(inFeatures);
        var w = new double[outFeatures * inFeatures];
        for (int i = 0; i < w.Length; i++)
        {
            w[i] = rng.Uniform(-bound, bound);
        }

        Weight = Tensor.Parameter(backend, w, "weight", outFeatures, inFeatures);
        if (bias)
        {
            var b = new double[outFeatures];
            for (int i = 0; i < b.Length; i++)
            {
                b[i] = rng.Uniform(-bound, bound);
            }

            Bias = Tensor.Parameter(backend, b, "bias", outFeatures);
        }
    }

    /// <summary>Input width.</summary>
    public int InFeatures { get; }

    /// <summary>Output width.</summary>
    public int OutFeatures { get; }

    /// <summary>Weight, (out, in).</summary>
    public Tensor Weight { get; }

    /// <summary>Bias, (out), or null.</summary>
    public Tensor? Bias { get; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Ops.Linear(input, Weight, Bias);

    /// <inheritdoc/>
    protected override IEnumerable<(string Name, Tensor Tensor)> OwnParameters()
    {
        yield return ("weight", Weight);
        if (Bias is not null)
        {
            yield return ("bias", Bias);
        }
    }
}

/// <summary>Options of <see cref="BatchNorm1d"/>, with PyTorch's defaults.</summary>
public sealed record BatchNormOptions
{
    /// <summary>Weight of the newest batch in the running statistics.</summary>
    public float Momentum { get; init; } = 0.1f;

    /// <summary>Added to the variance before the square root.</summary>
    public float Eps { get; init; } = 1e-5f;
}

/// <summary>Batch normalisation over features of a (batch, features) input.</summary>
public sealed class BatchNorm1d : BatchNormBase
{
    /// <summary>gamma = 1, beta = 0, running mean 0, running variance 1.</summary>
    public BatchNorm1d(IBackend backend, int features, BatchNormOptions? options = null)
        : base(backend, features, options)
    {
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Ops.BatchNorm1d(
        input, Gamma, Beta, RunningMean, RunningVar, Training, Options.Momentum, Options.Eps);
}

/// <summary>
/// The state every batch normalisation holds, named as PyTorch names it: a scale and shift per
/// feature or channel (weight, bias) and the running statistics used in evaluation.
/// </summary>
public abstract class BatchNormBase : Module, ITracksBatches
{
    /// <summary>gamma = 1, beta = 0, running mean 0, running variance 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">features is below 1.</exception>
    protected BatchNormBase(IBackend backend, int features, BatchNormOptions? options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(features, 1);
        Options = options ?? new BatchNormOptions();
        var ones = Enumerable.Repeat(1.0, features).ToArray();
        Gamma = Tensor.Parameter(backend, ones, "weight", features);
        Beta = Tensor.Parameter(backend, new double[features], "bias", features);
        RunningMean = Tensor.Zeros(backend, features);
        RunningVar = Tensor.FromArray(backend, ones, features);
    }

    /// <summary>Momentum and eps.</summary>
    public BatchNormOptions Options { get; }

    /// <summary>Scale (PyTorch's weight).</summary>
    public Tensor Gamma { get; }

    /// <summary>Shift (PyTorch's bias).</summary>
    public Tensor Beta { get; }

    /// <summary>Running mean used in evaluation.</summary>
    public Tensor RunningMean { get; }

    /// <summary>Running unbiased variance used in evaluation.</summary>
    public Tensor RunningVar { get; }

    /// <inheritdoc/>
    protected override IEnumerable<(string Name, Tensor Tensor)> OwnParameters() =>
        [("weight", Gamma), ("bias", Beta)];

    /// <inheritdoc/>
    protected override IEnumerable<(string Name, Tensor Tensor)> OwnBuffers() =>
        [("running_mean", RunningMean), ("running_var", RunningVar)];
}

/// <summary>Marks a batch-normalisation layer: PyTorch's state_dict lists a
/// <c>num_batches_tracked</c> counter for it, which checkpoints write so a strict
/// <c>load_state_dict</c> accepts them.</summary>
public interface ITracksBatches;

/// <summary>y = max(x, 0).</summary>
public sealed class Relu : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Ops.Relu(input);
}

/// <summary>y = tanh(x).</summary>
public sealed class Tanh : Module
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input) => Ops.Tanh(input);
}

/// <summary>Applies its layers in order; children are named 0, 1, 2… as in PyTorch.</summary>
public sealed class Sequential : Module
{
    private readonly List<Module> _layers;

    /// <summary>A chain of layers.</summary>
    public Sequential(IEnumerable<Module> layers) => _layers = layers.ToList();

    /// <summary>The layers in order.</summary>
    public IReadOnlyList<Module> Layers => _layers;

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        Tensor x = input;
        foreach (Module layer in _layers)
        {
            x = layer.Forward(x);
        }

        return x;
    }

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Module Child)> Children() =>
        _layers.Select((layer, i) => (i.ToString(System.Globalization.CultureInfo.InvariantCulture), layer));
}
