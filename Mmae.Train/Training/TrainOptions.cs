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

    /// <summary>Network: <c>mlp</c> (the DeepAE, or its VAE form) or a convolutional architecture
    /// of the method's tables: <c>dsprites</c>, <c>shapes3d</c>, <c>celeba</c>.</summary>
    public string Arch { get; init; } = "mlp";

    /// <summary><c>ae</c> (plain autoencoder) or <c>vae</c> (variational; the regulariser acts
    /// on the posterior means μ).</summary>
    public string Model { get; init; } = "ae";

    /// <summary>Weight β of a VAE's KL term.</summary>
    public float Beta { get; init; } = 1f;

    /// <summary>Reconstruction loss: <c>auto</c> (mse for an autoencoder, sse for a VAE),
    /// <c>mse</c> (mean over elements), <c>sse</c> (per-image sum, batch mean) or <c>bce</c>
    /// (binary cross-entropy, per-image sum, for binary images).</summary>
    public string Recon { get; init; } = "auto";

    /// <summary>What λ weighs: <c>mm</c> (manifold matching), <c>grae</c> (coordinate loss,
    /// needs m = l), <c>topo</c> (TopoAE's persistent-homology loss) or <c>none</c>.</summary>
    public string Regularizer { get; init; } = "mm";

    /// <summary>λ over the epochs: <c>constant</c> or <c>step:FACTOR:PERIOD</c>.</summary>
    public string LambdaSchedule { get; init; } = "constant";

    /// <summary>Data set kind: <c>auto</c> (detected from the files) or a reader's name.</summary>
    public string DataKind { get; init; } = "auto";

    /// <summary>Train on at most this many samples (a fixed random subset); 0 means all.</summary>
    public int MaxSamples { get; init; }

    /// <summary>The reconstruction loss in effect once <c>auto</c> is resolved.</summary>
    public string ResolvedRecon => Recon != "auto" ? Recon : Model == "vae" ? "sse" : "mse";

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
