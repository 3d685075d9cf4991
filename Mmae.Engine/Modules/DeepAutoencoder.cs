using Mmae.Kernels;

namespace Mmae.Engine.Modules;

/// <summary>
/// The fully connected autoencoder of the method's MNIST experiments: encoder
/// in→h1→h2→h3→latent and the mirrored decoder, each hidden layer Linear→BatchNorm1d→ReLU,
/// a plain Linear into the bottleneck, and Tanh on the output (inputs scaled to [−1, 1]).
/// </summary>
public sealed class DeepAutoencoder : Autoencoder
{
    /// <summary>The default hidden widths, 1000-500-250.</summary>
    public static readonly int[] DefaultHidden = [1000, 500, 250];

    /// <summary>Builds the network; parameters are drawn from <paramref name="rng"/> in order.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1.</exception>
    public DeepAutoencoder(IBackend backend, int inputDim, int latentDim, Rng rng, int[]? hidden = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputDim, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(latentDim, 1);
        hidden ??= DefaultHidden;
        InputDim = inputDim;
        LatentDim = latentDim;
        Hidden = (int[])hidden.Clone();

        List<Module> enc = HiddenBlocks(backend, inputDim, hidden, rng);
        enc.Add(new Linear(backend, enc.Count > 0 ? hidden[^1] : inputDim, latentDim, rng));
        Encoder = new Sequential(enc);
        Decoder = MirroredDecoder(backend, inputDim, latentDim, hidden, rng);
    }

    /// <summary>Input width.</summary>
    public override int InputDim { get; }

    /// <summary>Latent width m.</summary>
    public override int LatentDim { get; }

    /// <summary>Hidden widths, encoder order.</summary>
    public int[] Hidden { get; }

    /// <summary>Input → latent codes.</summary>
    public Sequential Encoder { get; }

    /// <summary>Latent codes → reconstruction.</summary>
    public Sequential Decoder { get; }

    /// <inheritdoc/>
    public override LatentEncoding Encode(Tensor input) => new(Encoder.Forward(input), null);

    /// <inheritdoc/>
    public override Tensor Decode(Tensor code) => Decoder.Forward(code);

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Module Child)> Children() =>
        [("encoder", Encoder), ("decoder", Decoder)];

    /// <summary>Linear→BatchNorm1d→ReLU for each width in turn, starting from
    /// <paramref name="inputWidth"/>; parameters drawn from <paramref name="rng"/> in order.
    /// </summary>
    internal static List<Module> HiddenBlocks(
        IBackend backend,
        int inputWidth,
        IEnumerable<int> widths,
        Rng rng)
    {
        var layers = new List<Module>();
        int width = inputWidth;
        foreach (int h in widths)
        {
            layers.Add(new Linear(backend, width, h, rng));
            layers.Add(new BatchNorm1d(backend, h));
            layers.Add(new Relu());
            width = h;
        }

        return layers;
    }

    /// <summary>The decoder latent→h3→h2→h1→input: hidden blocks in reverse width order, a
    /// Linear to the input width, and Tanh.</summary>
    internal static Sequential MirroredDecoder(
        IBackend backend,
        int inputDim,
        int latentDim,
        int[] hidden,
        Rng rng)
    {
        List<Module> layers = HiddenBlocks(backend, latentDim, Enumerable.Reverse(hidden), rng);
        layers.Add(new Linear(backend, hidden.Length > 0 ? hidden[0] : latentDim, inputDim, rng));
        layers.Add(new Tanh());
        return new Sequential(layers);
    }
}
