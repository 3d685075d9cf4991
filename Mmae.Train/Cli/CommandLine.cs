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
          train     train an autoencoder whose latent space matches a reference embedding
          encode    embed a data set with a trained run's checkpoint
          devices   list the compute devices --device can choose (CPU, CUDA, OpenCL)
          reference compute a reference embedding (pca, tsne, umap), report its trustworthiness
          sweep     train models x lambdas x seeds, write one CSV of metrics and a comparison chart
          help      show this text; `mmae <command> --help` shows a command's options

        Example: mmae train                       (bundled MNIST digits, every default)
                 mmae train --latent 2 --reference pca:2 --epochs 5
                 mmae train --device cuda          (fails with one line when no GPU is present)
                 mmae reference tsne:2                (t-SNE of the bundled digits, cached)
        """;

    /// <summary>Runs a sub-command and returns the process exit code.</summary>
    public static int Run(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs a sub-command with the given output streams.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0 || args[0] is "help" or "--help" or "-h")
        {
            stdout.WriteLine(Overview);
            return args.Length == 0 ? UsageError : 0;
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

    /// <summary>Loads an IDX data folder, or the bundled MNIST digits when null.</summary>
    public static Dataset LoadData(string? folder)
    {
        string path = folder ?? BundledMnist;
        if (!Directory.Exists(path))
        {
            throw new DataFormatException(path,
                "data folder not found; pass --data with a folder holding "
                + "images-idx3-ubyte(.gz) and labels-idx1-ubyte(.gz).");
        }

        string name = folder is null ? "mnist-10k" : Path.GetFileName(Path.GetFullPath(path).TrimEnd('/'));
        return Dataset.LoadMnistFolder(path, name);
    }
}
