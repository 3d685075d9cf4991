using Mmae.Kernels;

namespace Mmae.Engine.Modules;

/// <summary>
/// A convolutional encoder trunk and its mirrored decoder: the trunk maps images
/// (N, C, H, W) (or flat rows of C·H·W) to features (N, F); the decoder maps latent codes
/// (N, m) to images (N, C, H, W) in [−1, 1] (Tanh).
/// </summary>
/// <param name="Name">The architecture's name, as <see cref="ConvArchitectures.Build"/> takes it.</param>
/// <param name="Trunk">Images → features (N, F), ending after the last activation; a VAE puts
/// its μ and log σ² heads on top, an autoencoder one Linear F → m.</param>
/// <param name="FeatureWidth">F, the width of the trunk's output.</param>
/// <param name="Decoder">Latent codes (N, m) → images (N, C, H, W).</param>
/// <param name="ImageShape">(C, H, W) of one image.</param>
public sealed record ConvNetwork(string Name, Sequential Trunk, int FeatureWidth, Sequential Decoder, int[] ImageShape);

/// <summary>
/// The convolutional networks of the image experiments, selected by name: <c>dsprites</c>
/// (1×64×64), <c>shapes3d</c> (3×64×64) and <c>celeba</c> (3×256×256).
/// </summary>
/// <remarks>
/// Every downsampling layer is a 4×4 convolution with stride 2 and padding 1 (halving the
/// side), followed by BatchNorm2d (except after the first convolution) and LeakyReLU(0.2); the
/// decoder mirrors it with transposed convolutions of the same geometry (doubling the side),
/// BatchNorm2d and LeakyReLU between them, and Tanh on the output.
/// <list type="bullet">
/// <item><c>dsprites</c>: conv 32, 64, 128, 256 → 256×4×4 → flatten 4096 → Linear 512 +
/// LeakyReLU = F (512).</item>
/// <item><c>shapes3d</c>: conv 32, 64, 128, 256, 512 → 512×2×2 → flatten 2048 → Linear 1024 +
/// LeakyReLU + Dropout(0.2) → Linear 512 + LeakyReLU = F (512).</item>
/// <item><c>celeba</c>: conv 32 (3×3, stride 1, padding 1), conv 64 … 2048 (six halvings,
/// 256 → 4), conv 4096 (4×4, no padding) → 4096×1×1 → flatten = F (4096).</item>
/// </list>
/// Decoders begin with Linear layers from m back to the flattened width (with LeakyReLU, and
/// the trunk's dropout in the mirrored place), reshape, then the transposed convolutions.
/// Parameters are drawn from the generator in construction order: trunk, then decoder.
/// Dropout layers keep the generator to draw their masks during training.
/// </remarks>
public static class ConvArchitectures
{
    /// <summary>The negative slope of every LeakyReLU.</summary>
    public const float Slope = 0.2f;

    /// <summary>The architecture names <see cref="Build"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["dsprites", "shapes3d", "celeba"];

    /// <summary>Builds the trunk and decoder of a named architecture for latent width m.</summary>
    /// <exception cref="ArgumentException">The name is not one of <see cref="Names"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">latentDim is below 1.</exception>
    public static ConvNetwork Build(string name, IBackend backend, int latentDim, Rng rng)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(latentDim, 1);
        return name switch
        {
            "dsprites" => Halving(name, backend, latentDim, rng, [1, 64, 64], [32, 64, 128, 256], [512], -1),
            "shapes3d" => Halving(name, backend, latentDim, rng, [3, 64, 64], [32, 64, 128, 256, 512], [1024, 512], 0),
            "celeba" => CelebA(backend, latentDim, rng),
            _ => throw new ArgumentException(
                $"ConvArchitectures: unknown architecture '{name}'; supported: {string.Join(", ", Names)}.",
                nameof(name)),
        };
    }

    // Halving convolutions of the given widths, flatten, Linear layers of the given widths;
    // Dropout(0.2) after the Linear layer at index dropoutAfter (−1 for none).
    private static ConvNetwork Halving(
        string name,
        IBackend backend,
        int latentDim,
        Rng rng,
        int[] image,
        int[] widths,
        int[] hidden,
        int dropoutAfter)
    {
        var trunk = new List<Module> { new Reshape(image) };
        int channels = image[0], side = image[1];
        for (int i = 0; i < widths.Length; i++)
        {
            trunk.Add(new Conv2d(backend, channels, widths[i], 4, 2, 1, rng));
            AddNormActivation(trunk, backend, widths[i], i > 0);
            channels = widths[i];
            side /= 2;
        }

        int flat = channels * side * side;
        trunk.Add(new Flatten());
        int width = flat;
        for (int i = 0; i < hidden.Length; i++)
        {
            trunk.Add(new Linear(backend, width, hidden[i], rng));
            trunk.Add(new LeakyRelu(Slope));
            if (i == dropoutAfter)
            {
                trunk.Add(new Dropout(0.2, rng));
            }

            width = hidden[i];
        }

        // Mirror: Linear m → hidden[^1] → … → hidden[0] → flat, then the transposed convs.
        var decoder = new List<Module>();
        width = latentDim;
        for (int i = hidden.Length - 1; i >= -1; i--)
        {
            int next = i >= 0 ? hidden[i] : flat;
            decoder.Add(new Linear(backend, width, next, rng));
            decoder.Add(new LeakyRelu(Slope));
            if (i >= 0 && i == dropoutAfter)
            {
                decoder.Add(new Dropout(0.2, rng));
            }

            width = next;
        }

        decoder.Add(new Reshape(channels, side, side));
        for (int i = widths.Length - 1; i >= 0; i--)
        {
            int next = i > 0 ? widths[i - 1] : image[0];
            decoder.Add(new ConvTranspose2d(backend, widths[i], next, 4, 2, 1, rng));
            if (i > 0)
            {
                AddNormActivation(decoder, backend, next, true);
            }
        }

        decoder.Add(new Tanh());
        return new ConvNetwork(name, new Sequential(trunk), hidden[^1], new Sequential(decoder), image);
    }

    private static ConvNetwork CelebA(IBackend backend, int latentDim, Rng rng)
    {
        int[] image = [3, 256, 256];
        int[] widths = [64, 128, 256, 512, 1024, 2048];
        var trunk = new List<Module> { new Reshape(image), new Conv2d(backend, 3, 32, 3, 1, 1, rng) };
        AddNormActivation(trunk, backend, 32, false);
        int channels = 32;
        foreach (int w in widths)
        {
            trunk.Add(new Conv2d(backend, channels, w, 4, 2, 1, rng));
            AddNormActivation(trunk, backend, w, true);
            channels = w;
        }

        trunk.Add(new Conv2d(backend, channels, 4096, 4, 1, 0, rng));
        AddNormActivation(trunk, backend, 4096, true);
        trunk.Add(new Flatten());

        var decoder = new List<Module>
        {
            new Linear(backend, latentDim, 4096, rng),
            new LeakyRelu(Slope),
            new Reshape(4096, 1, 1),
            new ConvTranspose2d(backend, 4096, 2048, 4, 1, 0, rng),
        };
        AddNormActivation(decoder, backend, 2048, true);
        channels = 2048;
        for (int i = widths.Length - 2; i >= -1; i--)
        {
            int next = i >= 0 ? widths[i] : 32;
            decoder.Add(new ConvTranspose2d(backend, channels, next, 4, 2, 1, rng));
            AddNormActivation(decoder, backend, next, true);
            channels = next;
        }

        decoder.Add(new ConvTranspose2d(backend, 32, 3, 3, 1, 1, rng));
        decoder.Add(new Tanh());
        return new ConvNetwork("celeba", new Sequential(trunk), 4096, new Sequential(decoder), image);
    }

    private static void AddNormActivation(List<Module> layers, IBackend backend, int channels, bool norm)
    {
        if (norm)
        {
            layers.Add(new BatchNorm2d(backend, channels));
        }

        layers.Add(new LeakyRelu(Slope));
    }
}

/// <summary>
/// A plain convolutional autoencoder: a named architecture's trunk plus Linear F → m as the
/// encoder, and its decoder.
/// </summary>
public sealed class ConvAutoencoder : Autoencoder
{
    /// <summary>Builds the network; the generator draws the trunk, the decoder, then the head.
    /// </summary>
    /// <exception cref="ArgumentException">The name is not one of
    /// <see cref="ConvArchitectures.Names"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">latentDim is below 1.</exception>
    public ConvAutoencoder(IBackend backend, string architecture, int latentDim, Rng rng)
    {
        Network = ConvArchitectures.Build(architecture, backend, latentDim, rng);
        LatentDim = latentDim;
        Encoder = new Sequential([.. Network.Trunk.Layers, new Linear(backend, Network.FeatureWidth, latentDim, rng)]);
        Decoder = Network.Decoder;
    }

    /// <summary>The architecture: trunk, feature width, decoder and image shape.</summary>
    public ConvNetwork Network { get; }

    /// <summary>Latent width m.</summary>
    public override int LatentDim { get; }

    /// <summary>Values per image, C·H·W.</summary>
    public override int InputDim => ShapeUtil.Count(Network.ImageShape);

    /// <summary>Images → latent codes (N, m): the trunk's layers, then Linear F → m.</summary>
    public Sequential Encoder { get; }

    /// <summary>Latent codes → reconstructed images (N, C, H, W).</summary>
    public Sequential Decoder { get; }

    /// <inheritdoc/>
    public override LatentEncoding Encode(Tensor input) => new(Encoder.Forward(input), null);

    /// <summary>Latent codes → reconstructions as rows (N, C·H·W), like the flat input rows.</summary>
    public override Tensor Decode(Tensor code) => Vae.AsRows(Decoder.Forward(code));

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Module Child)> Children() =>
        [("encoder", Encoder), ("decoder", Decoder)];
}
