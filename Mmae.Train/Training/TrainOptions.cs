using System.Globalization;

namespace Mmae.Train.Training;

/// <summary>Everything that defines a training run; written to the run folder as config.json.</summary>
public sealed record TrainOptions
{
    /// <summary>
    /// Default epoch count: 30 epochs of the default model take about two minutes on a
    /// 2-core AVX2 machine at about 4 s an epoch (measured figures are in README.md).
    /// </summary>
    public const int DefaultEpochs = 30;

    /// <summary>Folder with IDX images and labels; null means the bundled MNIST digits.</summary>
    public string? Data { get; init; }

    /// <summary>Latent dimension m.</summary>
    public int Latent { get; init; } = 256;

    /// <summary>Reference embedding: <c>pca:L</c>, <c>tsne:L</c>, <c>umap:L</c> or
    /// <c>file:PATH</c> (.npy or .csv, n×L).</summary>
    public string Reference { get; init; } = "pca:100";

    /// <summary>Parameters of a t-SNE or UMAP reference.</summary>
    public ReferenceParameters ReferenceParameters { get; init; } = new();

    /// <summary>Cache folder of computed references; null means <c>cache/</c> beside the run
    /// folder, "off" disables it.</summary>
    public string? Cache { get; init; }

    /// <summary>Distances L_mm compares: squared (the method's) or euclidean.</summary>
    public string Distance { get; init; } = "squared";

    /// <summary>Weight λ of the manifold-matching loss.</summary>
    public float Lambda { get; init; } = 1f;

    /// <summary>Mini-batch size p.</summary>
    public int Batch { get; init; } = 128;

    /// <summary>Passes over the data.</summary>
    public int Epochs { get; init; } = DefaultEpochs;

    /// <summary>Adam learning rate.</summary>
    public float LearningRate { get; init; } = 1e-3f;

    /// <summary>Seed of initialisation and shuffling.</summary>
    public int Seed { get; init; }

    /// <summary>Samples in the fixed evaluation subset for trustworthiness and continuity.</summary>
    public int EvalSize { get; init; } = 2000;

    /// <summary>Run folder; null picks runs/&lt;time&gt;-&lt;settings&gt;.</summary>
    public string? Out { get; init; }

    /// <summary>Compute threads; 0 means every core.</summary>
    public int Threads { get; init; }

    /// <summary>Compute device.</summary>
    public string Device { get; init; } = "auto";

    /// <summary>Hidden widths of the DeepAE, encoder order.</summary>
    public int[] Hidden { get; init; } = [1000, 500, 250];

    /// <summary>Steps between checkpoints; 0 saves one at the end of every epoch only.</summary>
    public int CheckpointEvery { get; init; }

    /// <summary>What a NaN or Inf in the loss or a gradient does: <c>stop</c> the run, or
    /// <c>skip</c> the batch (counted in the metrics).</summary>
    public string OnNonFinite { get; init; } = "stop";

    /// <summary>A folder name that says what the run is.</summary>
    public string DefaultRunName() => string.Create(CultureInfo.InvariantCulture,
        $"{DateTime.Now:yyyyMMdd-HHmmss}-m{Latent}-{SafeReference}-lam{Lambda}-s{Seed}");

    private string SafeReference => Path.GetFileNameWithoutExtension(Reference.Replace(':', '-'));
}
