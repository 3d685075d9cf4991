using Mmae.Engine;
using Mmae.Engine.Modules;
using Mmae.Kernels;

namespace Mmae.Train.Training;

/// <summary>What a checkpoint's network looks like: enough to rebuild it.</summary>
/// <param name="Kind"><c>deepae</c> (fully connected) or a convolutional architecture name.</param>
/// <param name="InputDim">Features per sample.</param>
/// <param name="LatentDim">Latent width m.</param>
/// <param name="Hidden">Hidden widths of a DeepAE (ignored by the convolutional ones).</param>
/// <param name="Variational">Whether the network is a VAE (posterior heads μ and log σ²).</param>
public sealed record Architecture(string Kind, int InputDim, int LatentDim, int[] Hidden, bool Variational = false)
{
    /// <summary>The architecture a run's options ask for, on data of <paramref name="inputDim"/>
    /// features.</summary>
    public static Architecture Of(TrainOptions o, int inputDim) =>
        new(o.Arch == "mlp" ? "deepae" : o.Arch, inputDim, o.Latent, o.Hidden, o.Model == "vae");

    /// <summary>A name for logs, for example <c>DeepAE 784-1000-500-250-256</c>.</summary>
    public string Describe() => (Variational ? "VAE " : "AE ") + (Kind == "deepae"
        ? $"DeepAE {InputDim}-{string.Join("-", Hidden)}-{LatentDim}"
        : $"{Kind} conv, latent {LatentDim}");
}

/// <summary>Builds the networks the trainer and the checkpoints name.</summary>
public static class ModelFactory
{
    /// <summary>Names <c>--arch</c> accepts.</summary>
    public static readonly string[] ArchNames = ["mlp", "dsprites", "shapes3d", "celeba"];

    /// <summary>Why <paramref name="arch"/> cannot be built, or null when it can.</summary>
    public static string? Problem(Architecture arch)
    {
        ArgumentNullException.ThrowIfNull(arch);
        if (arch.InputDim < 1 || arch.LatentDim < 1)
        {
            return "sizes must be positive";
        }

        return arch.Kind switch
        {
            "deepae" when arch.Hidden is null || arch.Hidden.Any(h => h < 1) =>
                "a deepae needs positive hidden widths",
            "deepae" => null,
            "dsprites" or "shapes3d" or "celeba" when arch.InputDim != ImageSize(arch.Kind) =>
                $"a {arch.Kind} network takes {ImageSize(arch.Kind)} values per image, not {arch.InputDim}",
            "dsprites" or "shapes3d" or "celeba" when arch.LatentDim > 65536 => "latent width over 65536",
            "dsprites" or "shapes3d" or "celeba" => null,
            _ => $"unknown kind '{arch.Kind}'",
        };
    }

    /// <summary>Why data cannot feed the network <paramref name="arch"/> (an --arch name), or
    /// null when it can.</summary>
    public static string? InputProblem(string arch, Data.Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (arch == "mlp")
        {
            return null;
        }

        (int c, int h, int w) = ImageOf(arch);
        return data.Image is { } img && img.Channels == c && img.Height == h && img.Width == w
            ? null
            : $"option --arch {arch}: takes {c}x{h}x{w} images, the data {data.Name} has "
                + (data.Image is { } i ? $"{i.Channels}x{i.Height}x{i.Width} images" : $"{data.Dim} features");
    }

    private static int ImageSize(string arch)
    {
        (int c, int h, int w) = ImageOf(arch);
        return c * h * w;
    }

    /// <summary>The input image (channels, height, width) of a convolutional network.</summary>
    public static (int Channels, int Height, int Width) ImageOf(string arch) => arch switch
    {
        "dsprites" => (1, 64, 64),
        "shapes3d" => (3, 64, 64),
        "celeba" => (3, 256, 256),
        _ => throw new ArgumentException($"'{arch}' is not a convolutional architecture", nameof(arch)),
    };

    /// <summary>A freshly initialised network; parameters are drawn from <paramref name="rng"/>.</summary>
    /// <exception cref="ArgumentException">The architecture cannot be built (see
    /// <see cref="Problem"/>).</exception>
    public static Autoencoder Build(Architecture arch, IBackend backend, Rng rng)
    {
        string? why = Problem(arch);
        if (why is not null)
        {
            throw new ArgumentException($"architecture {arch.Kind}: {why}", nameof(arch));
        }

        if (arch.Kind == "deepae")
        {
            return arch.Variational
                ? new DeepVae(backend, arch.InputDim, arch.LatentDim, rng, arch.Hidden)
                : new DeepAutoencoder(backend, arch.InputDim, arch.LatentDim, rng, arch.Hidden);
        }

        if (!arch.Variational)
        {
            return new ConvAutoencoder(backend, arch.Kind, arch.LatentDim, rng);
        }

        ConvNetwork net = ConvArchitectures.Build(arch.Kind, backend, arch.LatentDim, rng);
        return new Vae(backend, net.Trunk, net.FeatureWidth, arch.LatentDim, net.Decoder, rng, arch.InputDim);
    }
}
