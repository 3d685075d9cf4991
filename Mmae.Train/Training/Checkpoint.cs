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
    public static void Save(string path, DeepAutoencoder model, TrainOptions options)
    {
        var arch = new Architecture("deepae", model.InputDim, model.LatentDim, model.Hidden);
        var meta = new Dictionary<string, string>
        {
            [ArchitectureKey] = JsonSerializer.Serialize(arch),
            [ConfigKey] = JsonSerializer.Serialize(options),
        };
        SafeTensors.Save(path, model.StateDict().Select(s => (s.Name, s.Tensor.ToArray(), s.Tensor.Shape)), meta);
    }

    /// <summary>Rebuilds the model stored at <paramref name="path"/> on <paramref name="backend"/>.</summary>
    /// <exception cref="CheckpointFormatException">The file is not an mmae checkpoint or lacks a tensor.</exception>
    public static DeepAutoencoder Load(string path, IBackend backend)
    {
        var (tensors, meta) = SafeTensors.Load(path);
        if (!meta.TryGetValue(ArchitectureKey, out string? archJson))
        {
            throw new CheckpointFormatException($"{path}: no '{ArchitectureKey}' metadata; not an mmae checkpoint.");
        }

        Architecture arch;
        try
        {
            arch = JsonSerializer.Deserialize<Architecture>(archJson)
                ?? throw new CheckpointFormatException($"{path}: empty architecture metadata.");
        }
        catch (JsonException ex)
        {
            throw new CheckpointFormatException($"{path}: architecture metadata is malformed ({ex.Message}).");
        }

        if (arch.Kind != "deepae" || arch.InputDim < 1 || arch.LatentDim < 1 || arch.Hidden.Any(h => h < 1))
        {
            throw new CheckpointFormatException($"{path}: unsupported architecture '{arch.Kind}'.");
        }

        var model = new DeepAutoencoder(backend, arch.InputDim, arch.LatentDim, new Rng(0), arch.Hidden);
        foreach ((string name, Tensor t) in model.StateDict())
        {
            if (!tensors.TryGetValue(name, out var stored))
            {
                throw new CheckpointFormatException($"{path}: tensor '{name}' is missing.");
            }

            if (stored.Data.Length != t.Length)
            {
                throw new CheckpointFormatException(
                    $"{path}: tensor '{name}' has {stored.Data.Length} values, the model needs {t.Length}.");
            }

            var fresh = backend.Upload(stored.Data);
            backend.Copy(fresh, t.Data);
        }

        return model;
    }

    /// <summary>What the checkpoint's network looks like.</summary>
    public sealed record Architecture(string Kind, int InputDim, int LatentDim, int[] Hidden);
}
