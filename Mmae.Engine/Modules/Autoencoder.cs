namespace Mmae.Engine.Modules;

/// <summary>What an encoder returns for a batch: the code the regulariser sees (the posterior
/// mean μ for a VAE) and, for a VAE, log σ².</summary>
/// <param name="Mean">Latent codes or posterior means, (p, m).</param>
/// <param name="LogVar">log σ² of the posterior, (p, m); null for a plain autoencoder.</param>
public sealed record LatentEncoding(Tensor Mean, Tensor? LogVar);

/// <summary>
/// An autoencoder the trainer can drive: fully connected or convolutional, plain or
/// variational. The trainer samples a VAE's latent itself (from its own seeded generator), so
/// a model only maps inputs to <see cref="LatentEncoding"/> and codes back to reconstructions.
/// </summary>
public abstract class Autoencoder : Module
{
    /// <summary>Latent width m.</summary>
    public abstract int LatentDim { get; }

    /// <summary>Features per input sample (C·H·W for images).</summary>
    public abstract int InputDim { get; }

    /// <summary>Whether <see cref="Encode"/> returns a posterior (μ, log σ²).</summary>
    public bool IsVariational => this is IVariational;

    /// <summary>Input (p, InputDim) → codes (and log σ² for a VAE).</summary>
    public abstract LatentEncoding Encode(Tensor input);

    /// <summary>Codes (p, m) → reconstructions (p, InputDim).</summary>
    public abstract Tensor Decode(Tensor code);

    /// <summary>The reconstruction of the input through the mean code.</summary>
    public override Tensor Forward(Tensor input) => Decode(Encode(input).Mean);
}

/// <summary>Marks an <see cref="Autoencoder"/> whose encoder returns a Gaussian posterior.</summary>
public interface IVariational;
