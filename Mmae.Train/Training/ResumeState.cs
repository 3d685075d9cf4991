using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using Mmae.Engine;
using Mmae.Engine.IO;
using Mmae.Engine.Modules;
using Mmae.Engine.Optim;
using Mmae.Kernels;

namespace Mmae.Train.Training;

/// <summary>
/// Where a run stands between two steps, besides its tensors: with the model, the Adam moments
/// and the sample order, enough to continue the run bit for bit.
/// </summary>
public sealed record TrainingProgress
{
    /// <summary>Epochs completed.</summary>
    public int EpochsDone { get; init; }

    /// <summary>Steps of the next epoch already taken; 0 means that epoch has not started and
    /// its shuffle has not been drawn yet.</summary>
    public int StepInEpoch { get; init; }

    /// <summary>Adam updates applied so far (skipped batches apply none).</summary>
    public long Updates { get; init; }

    /// <summary>State of the shuffling generator.</summary>
    public ulong[] Rng { get; init; } = [];

    /// <summary>State of the generator that draws a VAE's latent noise (and dropout masks);
    /// empty in checkpoints written before it existed, which then start it from the seed.</summary>
    public ulong[] NoiseRng { get; init; } = [];

    /// <summary>Sum over the current epoch's steps of batch size × reconstruction loss.</summary>
    public double SumReconstruction { get; init; }

    /// <summary>Sum over the current epoch's steps of batch size × L_mm.</summary>
    public double SumMatch { get; init; }

    /// <summary>Sum over the current epoch's steps of batch size × total loss.</summary>
    public double SumTotal { get; init; }

    /// <summary>Sum over the current epoch's steps of batch size × a VAE's KL term.</summary>
    public double SumKl { get; init; }

    /// <summary>Samples behind the sums.</summary>
    public int Seen { get; init; }

    /// <summary>Seconds spent on the current epoch so far.</summary>
    public double Seconds { get; init; }

    /// <summary>Batches of the current epoch skipped for a NaN or Inf.</summary>
    public int Skipped { get; init; }

    /// <summary>The completed epochs' losses, oldest first.</summary>
    public EpochLosses[] Epochs { get; init; } = [];

    /// <summary>SHA-256 of the data and reference the run trains on (see
    /// <see cref="TrainingState.Fingerprint"/>).</summary>
    public string Fingerprint { get; init; } = "";
}

/// <summary>A model with its optimizer, shuffling generator, sample order and progress.</summary>
public sealed class TrainingState
{
    private TrainingState(Autoencoder model, Adam adam, Rng rng, Rng noise, int[] order, TrainingProgress progress)
    {
        Model = model;
        Adam = adam;
        Rng = rng;
        Noise = noise;
        Order = order;
        Progress = progress;
    }

    /// <summary>The network.</summary>
    public Autoencoder Model { get; }

    /// <summary>Its optimizer.</summary>
    public Adam Adam { get; }

    /// <summary>The generator that shuffles the samples each epoch.</summary>
    public Rng Rng { get; }

    /// <summary>The generator of a VAE's latent noise.</summary>
    public Rng Noise { get; }

    /// <summary>The sample order of the current (or, between epochs, the last) epoch.</summary>
    public int[] Order { get; }

    /// <summary>Where the run stands; the trainer replaces it at each checkpoint.</summary>
    public TrainingProgress Progress { get; set; }

    /// <summary>A new run: the model drawn from the seed, Adam at zero, samples in file order.</summary>
    public static TrainingState Fresh(TrainOptions o, IBackend backend, int count, int dim)
    {
        var rng = new Rng((ulong)o.Seed);
        Autoencoder model = ModelFactory.Build(Architecture.Of(o, dim), backend, rng);
        var adam = new Adam(model.Parameters(), new AdamOptions { LearningRate = o.LearningRate });
        int[] order = Enumerable.Range(0, count).ToArray();
        return new TrainingState(model, adam, rng, NoiseFromSeed(o.Seed), order, new TrainingProgress());
    }

    /// <summary>SHA-256 over the features, labels and reference rows, so a run is resumed on
    /// the data it started with and nothing else.</summary>
    public static string Fingerprint(Data.Dataset data, float[] reference, int refDim)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(MemoryMarshal.AsBytes<int>([data.Count, data.Dim, refDim]));
        hash.AppendData(MemoryMarshal.AsBytes(data.Features.AsSpan()));
        hash.AppendData(MemoryMarshal.AsBytes(data.Labels.AsSpan()));
        hash.AppendData(MemoryMarshal.AsBytes(reference.AsSpan()));
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Builds a state from checkpoint parts already checked by
    /// <see cref="TrainingCheckpoint"/>.</summary>
    internal static TrainingState FromParts(
        Autoencoder model, Adam adam, int[] order, TrainingProgress p, int seed)
    {
        var rng = new Rng(0) { State = p.Rng };
        Rng noise = p.NoiseRng.Length == 0 ? NoiseFromSeed(seed) : new Rng(0) { State = p.NoiseRng };
        adam.StepCount = p.Updates;
        return new TrainingState(model, adam, rng, noise, order, p);
    }

    // A stream apart from initialisation and shuffling, so a VAE's noise does not shift the
    // sample order an autoencoder with the same seed would see.
    private static Rng NoiseFromSeed(int seed) => new((ulong)seed ^ 0x9E3779B97F4A7C15UL);
}

/// <summary>A training checkpoint read from disk, checked, not yet placed on a backend.</summary>
public sealed class LoadedCheckpoint
{
    internal LoadedCheckpoint(
        string path,
        SafeTensorsFile file,
        TrainOptions options,
        TrainingProgress progress)
    {
        Path = path;
        File = file;
        Options = options;
        Progress = progress;
    }

    /// <summary>The file it came from.</summary>
    public string Path { get; }

    /// <summary>The run's options when the checkpoint was written.</summary>
    public TrainOptions Options { get; }

    /// <summary>Where the run stood.</summary>
    public TrainingProgress Progress { get; }

    internal SafeTensorsFile File { get; }
}

/// <summary>
/// <c>checkpoint.safetensors</c>: one file holding everything a run needs to continue. The
/// model's tensors carry PyTorch's state_dict names; Adam's moments are stored as
/// <c>optimizer.exp_avg.NAME</c> and <c>optimizer.exp_avg_sq.NAME</c> (float32), the sample
/// order as <c>train.order</c> (int32), and the architecture, configuration and progress
/// (epoch, step, Adam step count, generator state, loss sums) as JSON metadata.
/// </summary>
/// <remarks>
/// One file, written through a temporary file and a rename, so a checkpoint is always whole
/// and always consistent with itself; the previous one stays until the new one is complete.
/// In Python, <c>safetensors.torch.load_file</c> reads it; keep the keys without a
/// <c>optimizer.</c> or <c>train.</c> prefix for <c>model.load_state_dict</c>.
/// </remarks>
public static class TrainingCheckpoint
{
    /// <summary>Name of the checkpoint inside a run folder.</summary>
    public const string FileName = "checkpoint.safetensors";

    private const string ProgressKey = "mmae.progress";
    private const string OrderName = "train.order";
    private const string FirstMoment = "optimizer.exp_avg.";
    private const string SecondMoment = "optimizer.exp_avg_sq.";

    /// <summary>Writes <paramref name="state"/> atomically to <paramref name="path"/>.</summary>
    /// <exception cref="IOException">The write failed; the previous checkpoint is unchanged.</exception>
    public static void Save(
        string path,
        TrainingState state,
        TrainOptions options,
        IFileSystem? fileSystem = null)
    {
        var tensors = Checkpoint.StateDict(state.Model).ToList();
        var named = state.Model.NamedParameters().ToList();
        for (int i = 0; i < named.Count; i++)
        {
            (string name, Tensor p) = named[i];
            tensors.Add((FirstMoment + name, Download(state.Adam.FirstMoments[i]), p.Shape));
            tensors.Add((SecondMoment + name, Download(state.Adam.SecondMoments[i]), p.Shape));
        }

        Dictionary<string, string> meta = Checkpoint.Metadata(state.Model, options);
        meta[ProgressKey] = JsonSerializer.Serialize(
            state.Progress with { Rng = state.Rng.State, NoiseRng = state.Noise.State });
        var ints = Checkpoint.BatchCounters(state.Model, state.Adam.StepCount)
            .Append((OrderName, state.Order, [state.Order.Length]));
        SafeTensors.Save(path, tensors, meta, ints, fileSystem);
    }

    /// <summary>Reads and checks a checkpoint: its options, progress and sample order.</summary>
    /// <exception cref="CheckpointFormatException">The file is malformed or not a training
    /// checkpoint.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static LoadedCheckpoint Read(string path)
    {
        SafeTensorsFile file = SafeTensors.Read(path);
        TrainOptions options = ReadOptions(path, Checkpoint.ConfigJson(path, file));
        if (!file.Metadata.TryGetValue(ProgressKey, out string? json))
        {
            throw new CheckpointFormatException(
                $"{path}: no '{ProgressKey}' metadata; a model file, not a training checkpoint "
                + $"(runs keep theirs in {FileName}).");
        }

        TrainingProgress p = Parse<TrainingProgress>(path, ProgressKey, json);
        if (p.EpochsDone < 0 || p.StepInEpoch < 0 || p.Updates < 0 || p.Seen < 0 || p.Skipped < 0
            || p.Rng is not { Length: 4 } || p.Rng.All(r => r == 0) || p.Epochs is null
            || p.NoiseRng is null
            || (p.NoiseRng.Length != 0 && (p.NoiseRng.Length != 4 || p.NoiseRng.All(r => r == 0)))
            || p.Epochs.Length != p.EpochsDone || p.Epochs.Any(e => e is null) || p.Fingerprint is null
            || !double.IsFinite(p.SumReconstruction + p.SumMatch + p.SumTotal + p.Seconds))
        {
            throw new CheckpointFormatException($"{path}: '{ProgressKey}' metadata is inconsistent: {json}");
        }

        if (!file.Ints.TryGetValue(OrderName, out var order) || order.Shape.Length != 1
            || !IsPermutation(order.Data))
        {
            throw new CheckpointFormatException(
                $"{path}: '{OrderName}' is missing or not a permutation of 0..n-1.");
        }

        return new LoadedCheckpoint(path, file, options, p);
    }

    /// <summary>Places a checkpoint on <paramref name="backend"/>, with the run's options.</summary>
    /// <exception cref="CheckpointFormatException">A tensor is missing or has the wrong shape.</exception>
    public static TrainingState Restore(LoadedCheckpoint c, TrainOptions options, IBackend backend)
    {
        Autoencoder model = Checkpoint.Restore(c.Path, c.File, backend);
        if (model.LatentDim != options.Latent || model.IsVariational != (options.Model == "vae")
            || (model is DeepAutoencoder deep && !deep.Hidden.SequenceEqual(options.Hidden)))
        {
            throw new CheckpointFormatException(
                $"{c.Path}: the architecture and the configuration disagree.");
        }

        var adam = new Adam(model.Parameters(), new AdamOptions { LearningRate = options.LearningRate });
        var named = model.NamedParameters().ToList();
        for (int i = 0; i < named.Count; i++)
        {
            backend.Write(Moment(c, FirstMoment + named[i].Name, named[i].Tensor), adam.FirstMoments[i]);
            backend.Write(Moment(c, SecondMoment + named[i].Name, named[i].Tensor), adam.SecondMoments[i]);
        }

        return TrainingState.FromParts(model, adam, c.File.Ints[OrderName].Data, c.Progress, options.Seed);
    }

    private static float[] Moment(LoadedCheckpoint c, string name, Tensor parameter)
    {
        if (!c.File.Floats.TryGetValue(name, out var m) || !m.Shape.SequenceEqual(parameter.Shape))
        {
            throw new CheckpointFormatException(
                $"{c.Path}: optimizer tensor '{name}' is missing or not of shape "
                + $"({string.Join(", ", parameter.Shape)}).");
        }

        return m.Data;
    }

    private static TrainOptions ReadOptions(string path, string json)
    {
        TrainOptions o = Parse<TrainOptions>(path, "mmae.config", json);
        string? bad =
            o.Latent < 1 ? "Latent" :
            o.Batch < 2 ? "Batch" :
            o.Epochs < 1 ? "Epochs" :
            !(o.LearningRate > 0 && float.IsFinite(o.LearningRate)) ? "LearningRate" :
            !(o.Lambda >= 0 && float.IsFinite(o.Lambda)) ? "Lambda" :
            o.Hidden is null || o.Hidden.Any(h => h < 1) ? "Hidden" :
            o.Distance is not ("squared" or "euclidean") ? "Distance" :
            o.Reference is null ? "Reference" :
            o.EvalSize < 4 ? "EvalSize" :
            o.Threads is < 0 or > 1024 ? "Threads" :
            o.Seed < 0 ? "Seed" :
            o.Device is null ? "Device" :
            o.CheckpointEvery < 0 ? "CheckpointEvery" :
            o.OnNonFinite is not ("stop" or "skip") ? "OnNonFinite" :
            o.Regularizer is not ("mm" or "grae" or "topo" or "none") ? "Regularizer" :
            o.Model is not ("ae" or "vae") ? "Model" :
            o.Arch is null || !ModelFactory.ArchNames.Contains(o.Arch) ? "Arch" :
            o.Recon is not ("auto" or "mse" or "sse" or "bce") ? "Recon" :
            !(o.Beta >= 0 && float.IsFinite(o.Beta)) ? "Beta" :
            o.LambdaSchedule is null || !IsSchedule(o.LambdaSchedule) ? "LambdaSchedule" :
            null;
        return bad is null
            ? o
            : throw new CheckpointFormatException(
                $"{path}: configuration value {bad} is out of range in {json}");
    }

    private static T Parse<T>(string path, string key, string json)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json)
                ?? throw new CheckpointFormatException($"{path}: '{key}' metadata is null.");
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or ArgumentException
            or InvalidOperationException or FormatException or OverflowException)
        {
            throw new CheckpointFormatException($"{path}: '{key}' metadata is malformed ({ex.Message}).");
        }
    }

    private static bool IsSchedule(string text)
    {
        try
        {
            LambdaSchedule.Parse(text);
            return true;
        }
        catch (Cli.UsageException)
        {
            return false;
        }
    }

    private static bool IsPermutation(int[] order)
    {
        var seen = new bool[order.Length];
        foreach (int i in order)
        {
            if ((uint)i >= (uint)order.Length || seen[i])
            {
                return false;
            }

            seen[i] = true;
        }

        return true;
    }

    private static float[] Download(DeviceBuffer buffer)
    {
        var host = new float[buffer.Length];
        buffer.Backend.Download(buffer, host);
        return host;
    }
}
