using Mmae.Kernels;

namespace Mmae.Engine.Modules;

/// <summary>
/// A variational autoencoder: a trunk maps an input batch to features (p, F), two Linear heads
/// map those to the mean and log-variance of q(z | x) (p, m), and a decoder maps latent codes
/// back to inputs. Children are named as in a PyTorch VAE: <c>trunk</c>, <c>fc_mu</c>,
/// <c>fc_logvar</c>, <c>decoder</c>.
/// </summary>
/// <remarks>
/// The manifold-matching term is applied to the means mu (deterministic, one per input), which
/// <see cref="Loss(Tensor, Tensor, ReconstructionLoss)"/> returns alongside the loss parts.
/// A trunk output with more than two dimensions (a conv trunk's (p, C, H, W)) is flattened to
/// (p, C·H·W), which must equal the feature width.
/// </remarks>
public class Vae : Autoencoder, IVariational
{
    /// <summary>Builds the heads around a trunk and a decoder; the heads' parameters are drawn
    /// from <paramref name="rng"/> (mu first), as <see cref="Linear"/> draws them.</summary>
    /// <param name="backend">Where the heads' parameters live (the trunk's and decoder's too).
    /// </param>
    /// <param name="trunk">Input batch → features, (p, featureWidth) or (p, ...) holding
    /// featureWidth elements per sample.</param>
    /// <param name="featureWidth">F, the trunk's elements per sample.</param>
    /// <param name="latent">m, the latent width.</param>
    /// <param name="decoder">(p, m) latent codes → reconstructions shaped like the input.</param>
    /// <param name="rng">Initialises the heads.</param>
    /// <param name="inputDim">Features per input sample (C·H·W for images), for callers that
    /// check data against the model; 0 when unknown.</param>
    /// <exception cref="ArgumentOutOfRangeException">A width is below 1.</exception>
    public Vae(
        IBackend backend,
        Module trunk,
        int featureWidth,
        int latent,
        Module decoder,
        Rng rng,
        int inputDim = 0)
    {
        InputDim = inputDim;
        ArgumentNullException.ThrowIfNull(trunk);
        ArgumentNullException.ThrowIfNull(decoder);
        ArgumentOutOfRangeException.ThrowIfLessThan(featureWidth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(latent, 1);
        Trunk = trunk;
        FeatureWidth = featureWidth;
        LatentDim = latent;
        FcMu = new Linear(backend, featureWidth, latent, rng);
        FcLogVar = new Linear(backend, featureWidth, latent, rng);
        Decoder = decoder;
    }

    /// <summary>Feature width F of the trunk.</summary>
    public int FeatureWidth { get; }

    /// <summary>Latent width m.</summary>
    public override int LatentDim { get; }

    /// <summary>Features per input sample (0 when the builder did not say).</summary>
    public override int InputDim { get; }

    /// <summary>Input → features.</summary>
    public Module Trunk { get; }

    /// <summary>Features → mu.</summary>
    public Linear FcMu { get; }

    /// <summary>Features → log-variance.</summary>
    public Linear FcLogVar { get; }

    /// <summary>Latent codes → reconstruction.</summary>
    public Module Decoder { get; }

    /// <summary>The mean and log-variance of q(z | x), each (p, m).</summary>
    /// <exception cref="ArgumentException">The trunk's output does not hold
    /// <see cref="FeatureWidth"/> elements per sample.</exception>
    public override LatentEncoding Encode(Tensor input)
    {
        Tensor h = Trunk.Forward(input);
        if (h.Shape.Length < 2 || h.Cols != FeatureWidth)
        {
            throw new ArgumentException(
                $"Vae.Encode: the trunk gave {ShapeUtil.Format(h.Shape)} for input "
                + $"{ShapeUtil.Format(input.Shape)}, expected (batch, {FeatureWidth}) or "
                + $"{FeatureWidth} elements per sample. Pass the trunk's true output width.");
        }

        h = Flatten(h);
        return new LatentEncoding(FcMu.Forward(h), FcLogVar.Forward(h));
    }

    /// <summary>Latent codes (p, m) → reconstructions as rows (p, d), whatever shape the
    /// decoder gives (a conv decoder's (p, C, H, W) becomes (p, C·H·W)).</summary>
    public override Tensor Decode(Tensor code) => AsRows(Decoder.Forward(code));

    /// <summary>A (p, …) tensor viewed as p rows; 1- and 2-D tensors are returned as they are.</summary>
    public static Tensor AsRows(Tensor t)
    {
        ArgumentNullException.ThrowIfNull(t);
        return t.Shape.Length <= 2 ? t : Ops.Reshape(t, t.Rows, t.Cols);
    }

    /// <summary>
    /// The VAE's loss parts for a batch, with z = mu + exp(½·logVar)·eps and the
    /// reconstruction term measured between decode(z) and the input.
    /// </summary>
    /// <param name="input">The batch; also the reconstruction target.</param>
    /// <param name="eps">Standard normal noise, (p, m); see <see cref="Ops.GaussianNoise"/>.
    /// </param>
    /// <param name="reconstruction">Squared error, or binary cross-entropy computed from the
    /// decoder's pre-Tanh output (see <see cref="Losses.BinaryCrossEntropyTanh"/>).</param>
    /// <exception cref="ArgumentException">eps is not (p, m), or shapes do not chain.</exception>
    /// <exception cref="NotSupportedException">Binary cross-entropy with a decoder that is not
    /// a <see cref="Sequential"/> ending in <see cref="Tanh"/>.</exception>
    public VaeLoss Loss(
        Tensor input,
        Tensor eps,
        ReconstructionLoss reconstruction = ReconstructionLoss.SquaredError)
    {
        LatentEncoding posterior = Encode(input);
        (Tensor mu, Tensor logVar) = (posterior.Mean, posterior.LogVar!);
        Tensor z = Ops.Reparameterize(mu, logVar, eps);
        Tensor rec = reconstruction == ReconstructionLoss.BinaryCrossEntropy
            ? Losses.BinaryCrossEntropyTanh(AsRows(DecodePreTanh(z)), AsRows(input))
            : Losses.SumSquaredError(Decode(z), AsRows(input));
        return new VaeLoss(rec, Losses.KlDivergence(mu, logVar), mu, logVar, z);
    }

    /// <summary>As <see cref="Loss(Tensor, Tensor, ReconstructionLoss)"/>, drawing eps from
    /// <paramref name="noise"/> (p·m standard normal draws, row-major).</summary>
    public VaeLoss Loss(
        Tensor input,
        Rng noise,
        ReconstructionLoss reconstruction = ReconstructionLoss.SquaredError)
    {
        Tensor eps = Ops.GaussianNoise(input.Backend, noise, input.Rows, LatentDim);
        return Loss(input, eps, reconstruction);
    }

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Module Child)> Children() =>
        [("trunk", Trunk), ("fc_mu", FcMu), ("fc_logvar", FcLogVar), ("decoder", Decoder)];

    // The decoder without its final Tanh, for the logit form of the cross-entropy.
    // Limitation: only a Sequential decoder ending in Tanh can be split so; another decoder
    // would have to expose its pre-activation output.
    private Tensor DecodePreTanh(Tensor z)
    {
        if (Decoder is not Sequential { Layers: [.., Tanh] } chain)
        {
            throw new NotSupportedException(
                "Vae.Loss: binary cross-entropy is computed from the decoder's pre-Tanh output, "
                + $"so it needs a Sequential decoder ending in Tanh; got {Decoder.GetType().Name}. "
                + "Use ReconstructionLoss.SquaredError with this decoder.");
        }

        Tensor x = z;
        for (int i = 0; i < chain.Layers.Count - 1; i++)
        {
            x = chain.Layers[i].Forward(x);
        }

        return x;
    }

    // (p, ...) → (p, F) sharing the buffer; the gradient passes through unchanged.
    private static Tensor Flatten(Tensor t)
    {
        if (t.Shape.Length == 2)
        {
            return t;
        }

        var view = new Tensor(t.Data, [t.Rows, t.Cols]);
        return Autograd.Record(
            view, nameof(Flatten), [t], dy => Autograd.Accumulate(t, dy, owned: false));
    }
}

/// <summary>The parts of a VAE's loss for one batch, and the tensors they came from.</summary>
/// <param name="Reconstruction">Reconstruction term, per-sample sum averaged over the batch.
/// </param>
/// <param name="Kl">KL divergence from N(0, I), per-sample sum averaged over the batch.</param>
/// <param name="Mu">Means (p, m): what the manifold-matching term is applied to.</param>
/// <param name="LogVar">Log-variances (p, m).</param>
/// <param name="Z">The sampled codes (p, m).</param>
public sealed record VaeLoss(Tensor Reconstruction, Tensor Kl, Tensor Mu, Tensor LogVar, Tensor Z)
{
    /// <summary>Reconstruction + klWeight·KL (klWeight = β of a β-VAE; 1 for a plain VAE).
    /// </summary>
    public Tensor Total(float klWeight = 1f) => Reconstruction + klWeight * Kl;
}

/// <summary>
/// The fully connected VAE for flat data, the counterpart of <see cref="DeepAutoencoder"/>:
/// trunk in→h1→h2→h3 (Linear→BatchNorm1d→ReLU each), heads h3→m, and the same mirrored
/// decoder ending in Tanh, so a plain VAE compares with the deep autoencoder layer for layer.
/// </summary>
public sealed class DeepVae : Vae
{
    /// <summary>Builds the network; parameters are drawn from <paramref name="rng"/> in the
    /// order trunk, decoder, fc_mu, fc_logvar.</summary>
    /// <param name="backend">Where the parameters live.</param>
    /// <param name="inputDim">Input width.</param>
    /// <param name="latent">Latent width m.</param>
    /// <param name="rng">Initialises every layer.</param>
    /// <param name="hidden">Hidden widths in encoder order, at least one;
    /// <see cref="DeepAutoencoder.DefaultHidden"/> when null.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="hidden"/> is empty.</exception>
    public DeepVae(IBackend backend, int inputDim, int latent, Rng rng, int[]? hidden = null)
        : base(
            backend,
            new Sequential(DeepAutoencoder.HiddenBlocks(backend, inputDim, Widths(hidden), rng)),
            Widths(hidden)[^1],
            latent,
            DeepAutoencoder.MirroredDecoder(backend, inputDim, latent, Widths(hidden), rng),
            rng,
            inputDim)
    {
        Hidden = (int[])Widths(hidden).Clone();
    }

    /// <summary>Hidden widths, encoder order.</summary>
    public int[] Hidden { get; }

    private static int[] Widths(int[]? hidden)
    {
        hidden ??= DeepAutoencoder.DefaultHidden;
        if (hidden.Length == 0)
        {
            throw new ArgumentException(
                "DeepVae: expected at least one hidden width (the heads read the last one), "
                    + "got none.",
                nameof(hidden));
        }

        return hidden;
    }
}
