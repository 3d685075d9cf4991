using Mmae.Engine.IO;
using Mmae.Train.Data;

namespace Mmae.Train.Cli;

/// <summary>Entry point of the <c>mmae</c> command.</summary>
public static class CommandLine
{
    /// <summary>Exit code for a bad command line.</summary>
    public const int UsageError = 2;

    /// <summary>Exit code for bad input data or a failed run.</summary>
    public const int RunError = 1;

    private const string Overview = """
        mmae: Manifold-Matching Autoencoders, trained by our own engine.

        usage: mmae <command> [options]

        commands:
          train        train an autoencoder whose latent space matches a reference embedding
          encode       embed a data set with a trained run's checkpoint
          evaluate     every quality metric of a finished run (optionally on corrupted inputs)
          directions   attribute directions (mean latent difference) of a run on data with factors
          interpolate  decode mu + alpha * direction for chosen images into a PNG grid
          reference    compute a reference embedding (pca, tsne, umap), report its trustworthiness
          sweep        train models x lambdas x seeds, write one CSV of metrics and a comparison chart
          devices      list the compute devices --device can choose (CPU, CUDA, OpenCL)
          help         show this text; `mmae <command> --help` shows a command's options
          --version    print the version

        Example: mmae train                                       (bundled MNIST digits, every default)
                 mmae train --latent 2 --reference pca:2 --epochs 5
                 mmae train --device cuda                         (one line and exit 1 without a GPU)
                 mmae reference tsne:2                            (t-SNE of the bundled digits, cached)
        """;

    /// <summary>The tool's version: the assembly's informational version (with the commit when
    /// the build records it).</summary>
    public static string Version =>
        typeof(CommandLine).Assembly
            .GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion
        ?? typeof(CommandLine).Assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>Runs a sub-command and returns the process exit code.</summary>
    public static int Run(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs a sub-command with the given output streams.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0 || args[0] is "help" or "--help" or "-h")
        {
            if (args.Length > 1)
            {
                // `mmae help train` shows train's options, as `mmae train --help` does.
                return Run([args[1], "--help"], stdout, stderr);
            }

            stdout.WriteLine(Overview);
            return args.Length == 0 ? UsageError : 0;
        }

        if (args[0] == "--version")
        {
            stdout.WriteLine($"mmae {Version}");
            return 0;
        }

        string command = args[0];
        string[] rest = args[1..];
        try
        {
            return command switch
            {
                "train" => TrainCommand.Run(rest, stdout, stderr),
                "encode" => EncodeCommand.Run(rest, stdout),
                "devices" => DevicesCommand.Run(rest, stdout),
                "reference" => ReferenceCommand.Run(rest, stdout),
                "sweep" => SweepCommand.Run(rest, stdout, stderr),
                "evaluate" => EvaluateCommand.Run(rest, stdout),
                "directions" => DirectionsCommand.Run(rest, stdout),
                "interpolate" => DirectionsCommand.Interpolate(rest, stdout),
                _ => throw new UsageException($"unknown command '{command}'", Overview),
            };
        }
        catch (UsageException ex)
        {
            stderr.WriteLine($"mmae: error: {ex.Message}");
            if (ex.Usage is not null)
            {
                stderr.WriteLine();
                stderr.WriteLine(ex.Usage);
            }

            return UsageError;
        }
        catch (Exception ex) when (ex is DataFormatException or CheckpointFormatException
            or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            stderr.WriteLine($"mmae: error: {ex.Message}");
            return RunError;
        }
    }

    /// <summary>The folder of the MNIST digits that ship with the tool.</summary>
    public static string BundledMnist => Path.Combine(AppContext.BaseDirectory, "data", "mnist-10k");

    /// <summary>The folder of the dSprites subset that ships with the tool (20,000 images).</summary>
    public static string BundledDsprites => Path.Combine(AppContext.BaseDirectory, "data", "dsprites-random20k");

    /// <summary>
    /// Loads a data set: <paramref name="path"/> of <paramref name="kind"/> (auto detects it), or
    /// when path is null the bundled set that suits <paramref name="arch"/>: dSprites for the
    /// dsprites network, the MNIST digits otherwise.
    /// </summary>
    /// <param name="path">File or folder; null for the bundled data.</param>
    /// <param name="kind">A name of <see cref="DataSource.KindNames"/>.</param>
    /// <param name="arch">The network the data feeds; CelebA images are sized for it.</param>
    /// <param name="maxSamples">Keep at most this many samples (0: all).</param>
    public static Dataset LoadData(string? path, string kind = "auto", string arch = "mlp", int maxSamples = 0)
    {
        string where = path ?? (arch == "dsprites" ? BundledDsprites : BundledMnist);
        if (!Directory.Exists(where) && !File.Exists(where))
        {
            throw new DataFormatException(where,
                "data not found; pass --data with a data folder or file (" + DataSource.KindNames + ")");
        }

        DataKind k = kind == "auto" && path is null
            ? (arch == "dsprites" ? DataKind.Dsprites : DataKind.Idx)
            : DataSource.ParseKind(kind);
        // The large formats (.npz, .h5, CelebA) choose their subset while reading, to bound
        // memory; the folders read whole are subsampled here at random with a fixed seed,
        // because some (dSprites) are stored sorted by their factors.
        bool readerSubsets = File.Exists(where) || k is DataKind.Shapes3d or DataKind.Celeba;
        var options = new DataOptions
        {
            ImageSize = arch == "celeba" ? 256 : 64,
            MaxCount = maxSamples > 0 && readerSubsets ? maxSamples : null,
        };
        Dataset data = DataSource.Open(where, k, options);
        return maxSamples > 0 && data.Count > maxSamples
            ? data.Subset(Training.Evaluation.Subset(data.Count, maxSamples))
            : data;
    }
}
