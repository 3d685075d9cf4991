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

        var enc = new List<Module>();
        int width = inputDim;
        foreach (int h in hidden)
        {
            enc.Add(new Linear(backend, width, h, rng));
            enc.Add(new BatchNorm1d(backend, h));
            enc.Add(new Relu());
            width = h;
        }

        enc.Add(new Linear(backend, width, latentDim, rng));
        Encoder = new Sequential(enc);

        var dec = new List<Module>();
        width = latentDim;
        for (int i = hidden.Length - 1; i >= 0; i--)
        {
            dec.Add(new Linear(backend, width, hidden[i], rng));
            dec.Add(new BatchNorm1d(backend, hidden[i]));
            dec.Add(new Relu());
            width = hidden[i];
        }

        dec.Add(new Linear(backend, width, inputDim, rng));
        dec.Add(new Tanh());
        Decoder = new Sequential(dec);
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
}
