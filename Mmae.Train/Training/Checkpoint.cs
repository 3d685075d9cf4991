using System.Text.Json;
using Mmae.Engine;
using Mmae.Engine.IO;
using Mmae.Engine.Modules;
using Mmae.Kernels;

namespace Mmae.Train.Training;

/// <summary>
/// Model checkpoints: the DeepAE's state_dict (PyTorch names, float32) in safetensors, with
/// the architecture in the metadata so <c>mmae encode</c> can rebuild the network.
/// </summary>
public static class Checkpoint
{
    private const string ArchitectureKey = "mmae.architecture";
    private const string ConfigKey = "mmae.config";

    /// <summary>Writes the model (atomically) with the run's configuration.</summary>
    /// <param name="path">Destination file.</param>
    /// <param name="model">The network.</param>
    /// <param name="options">The run's options, stored as metadata.</param>
    /// <param name="batches">Training batches seen, stored as batch norm's num_batches_tracked.</param>
    public static void Save(string path, Autoencoder model, TrainOptions options, long batches = 0)
    {
        SafeTensors.Save(path, StateDict(model), Metadata(model, options), BatchCounters(model, batches));
    }

    /// <summary>The model's state_dict as host arrays, in PyTorch's order and names.</summary>
    public static IEnumerable<(string Name, float[] Data, int[] Shape)> StateDict(Autoencoder model) =>
        model.StateDict().Select(s => (s.Name, s.Tensor.ToArray(), s.Tensor.Shape));

    /// <summary>
    /// PyTorch's BatchNorm1d also lists <c>num_batches_tracked</c> in its state_dict, so a
    /// strict <c>load_state_dict</c> needs it: one 0-d I32 tensor per batch-norm layer (int64
    /// in PyTorch, which converts on loading). With a momentum, as here, PyTorch only counts it.
    /// </summary>
    public static IEnumerable<(string Name, int[] Data, int[] Shape)> BatchCounters(
        Autoencoder model,
        long batches)
    {
        int count = (int)Math.Min(batches, int.MaxValue);
        foreach ((string path, Module m) in model.NamedModules())
        {
            if (m is ITracksBatches)
            {
                yield return ($"{path}.num_batches_tracked", [count], []);
            }
        }
    }

    /// <summary>The metadata every mmae checkpoint carries: architecture and configuration.</summary>
    public static Dictionary<string, string> Metadata(Autoencoder model, TrainOptions options)
    {
        Architecture arch = Architecture.Of(options, model.InputDim);
        return new Dictionary<string, string>
        {
            [ArchitectureKey] = JsonSerializer.Serialize(arch),
            [ConfigKey] = JsonSerializer.Serialize(options),
        };
    }

    /// <summary>Rebuilds the model stored at <paramref name="path"/> on <paramref name="backend"/>.</summary>
    /// <exception cref="CheckpointFormatException">The file is not an mmae checkpoint or lacks a tensor.</exception>
    public static Autoencoder Load(string path, IBackend backend) =>
        Restore(path, SafeTensors.Read(path), backend);

    /// <summary>Rebuilds the model from a file already read.</summary>
    /// <remarks>The architecture is checked against the tensors the file holds before the
    /// network is built, so a forged architecture cannot make us allocate more than the file
    /// itself contains.</remarks>
    /// <exception cref="CheckpointFormatException">The file is not an mmae checkpoint, or a
    /// tensor is missing or has another shape than the architecture needs.</exception>
    public static Autoencoder Restore(string path, SafeTensorsFile file, IBackend backend)
    {
        Architecture arch = ReadArchitecture(path, file.Metadata);
        Int128 needed = StateDictLength(arch);
        long stored = file.Floats.Values.Sum(t => (long)t.Data.Length);
        if (needed > stored)
        {
            throw new CheckpointFormatException(
                $"{path}: the architecture needs {needed} values, the file holds only {stored}.");
        }

        Autoencoder model = ModelFactory.Build(arch, backend, new Rng(0));
        foreach ((string name, Tensor t) in model.StateDict())
        {
            if (!file.Floats.TryGetValue(name, out var s))
            {
                throw new CheckpointFormatException($"{path}: tensor '{name}' is missing.");
            }

            if (!s.Shape.SequenceEqual(t.Shape))
            {
                throw new CheckpointFormatException(
                    $"{path}: tensor '{name}' has shape ({string.Join(", ", s.Shape)}), "
                    + $"the model needs ({string.Join(", ", t.Shape)}).");
            }

            backend.Write(s.Data, t.Data);
        }

        return model;
    }

    /// <summary>The run configuration stored in a checkpoint, as JSON text.</summary>
    /// <exception cref="CheckpointFormatException">There is none.</exception>
    public static string ConfigJson(string path, SafeTensorsFile file) =>
        file.Metadata.TryGetValue(ConfigKey, out string? json)
            ? json
            : throw new CheckpointFormatException(
                $"{path}: no '{ConfigKey}' metadata; not an mmae training checkpoint.");

    private static Architecture ReadArchitecture(string path, Dictionary<string, string> meta)
    {
        if (!meta.TryGetValue(ArchitectureKey, out string? archJson))
        {
            throw new CheckpointFormatException(
                $"{path}: no '{ArchitectureKey}' metadata; not an mmae checkpoint.");
        }

        Architecture? arch;
        try
        {
            arch = JsonSerializer.Deserialize<Architecture>(archJson);
        }
        catch (JsonException ex)
        {
            throw new CheckpointFormatException($"{path}: architecture metadata is malformed ({ex.Message}).");
        }

        string? why = arch is null ? "null" : ModelFactory.Problem(arch);
        return why is null && arch is not null
            ? arch
            : throw new CheckpointFormatException($"{path}: unsupported architecture {archJson}: {why}.");
    }

    // A lower bound on the values in the architecture's state_dict, from its Linear layers
    // alone. For a DeepAE: each Linear a·b + b, each BatchNorm1d 4·h (weight, bias, running mean
    // and variance), encoder in→h1→…→latent and the mirrored decoder.
    private static Int128 StateDictLength(Architecture arch)
    {
        if (arch.Kind != "deepae")
        {
            // The convolutional networks are fixed but for the latent width: the latent heads
            // and the decoder's first Linear hold at least 3·m·F weights (F ≥ 512).
            return 3 * (Int128)arch.LatentDim * 512;
        }

        int[] widths = [arch.InputDim, .. arch.Hidden, arch.LatentDim];
        Int128 total = 0;
        for (int i = 0; i + 1 < widths.Length; i++)
        {
            total += 2 * ((Int128)widths[i] * widths[i + 1]) + widths[i] + widths[i + 1];
        }

        return total + 8 * (Int128)arch.Hidden.Sum(h => (long)h);
    }

}
