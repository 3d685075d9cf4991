namespace Mmae.Train.Data;

/// <summary>
/// A labelled data set held in memory: <see cref="Count"/> samples of <see cref="Dim"/> features.
/// </summary>
public sealed class Dataset
{
    /// <summary>Base name of the images file, without the optional ".gz".</summary>
    public const string ImagesFileName = "images-idx3-ubyte";

    /// <summary>Base name of the labels file, without the optional ".gz".</summary>
    public const string LabelsFileName = "labels-idx1-ubyte";

    /// <summary>Wraps features and labels without copying them.</summary>
    /// <param name="name">Short name used in logs and output paths, for example
    /// <c>mnist-10k</c>.</param>
    /// <param name="count">Number of samples.</param>
    /// <param name="dim">Features per sample.</param>
    /// <param name="features">count × dim values, row-major.</param>
    /// <param name="labels">count class labels.</param>
    /// <exception cref="ArgumentException">The array lengths do not match count and dim, or a
    /// size is not positive.</exception>
    public Dataset(string name, int count, int dim, float[] features, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        if (count <= 0 || dim <= 0)
        {
            throw new ArgumentException(
                $"Dataset: count and dim must be positive, got count {count}, dim {dim}.",
                count <= 0 ? nameof(count) : nameof(dim));
        }

        if (features.LongLength != (long)count * dim)
        {
            throw new ArgumentException(
                $"Dataset: expected {(long)count * dim} features ({count} x {dim}), "
                + $"got {features.LongLength}.", nameof(features));
        }

        if (labels.Length != count)
        {
            throw new ArgumentException(
                $"Dataset: expected {count} labels, got {labels.Length}.", nameof(labels));
        }

        Name = name;
        Count = count;
        Dim = dim;
        Features = features;
        Labels = labels;
    }

    /// <summary>Short name used in logs and output paths.</summary>
    public string Name { get; }

    /// <summary>Number of samples.</summary>
    public int Count { get; }

    /// <summary>Features per sample (784 for 28 × 28 images).</summary>
    public int Dim { get; }

    /// <summary>Count × Dim values, row-major; for images, scaled to [-1, 1].</summary>
    public float[] Features { get; }

    /// <summary>One class label per sample.</summary>
    public int[] Labels { get; }

    /// <summary>
    /// Loads an MNIST-layout folder: <c>images-idx3-ubyte</c> and <c>labels-idx1-ubyte</c>, each
    /// either gzip-compressed with a ".gz" suffix (preferred when both exist) or raw.
    /// </summary>
    /// <param name="folder">Folder holding the two files.</param>
    /// <param name="name">Name given to the data set.</param>
    /// <returns>Images flattened to rows of rows × cols features, each pixel p mapped to
    /// p / 127.5 − 1, so 0 becomes −1 and 255 becomes 1.</returns>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">Neither name of a file exists in the folder;
    /// the message lists both paths searched.</exception>
    /// <exception cref="IOException">A file cannot be opened or read.</exception>
    /// <exception cref="DataFormatException">A file is malformed, or the label count differs
    /// from the image count.</exception>
    public static Dataset LoadMnistFolder(string folder, string name)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(name);
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException(
                $"{folder}: data folder not found (searched {Path.GetFullPath(folder)}). "
                + $"It must hold {ImagesFileName}(.gz) and {LabelsFileName}(.gz).");
        }

        string imagesPath = FindFile(folder, ImagesFileName);
        string labelsPath = FindFile(folder, LabelsFileName);
        IdxImages images = IdxReader.ReadImages(imagesPath);
        byte[] labels = IdxReader.ReadLabels(labelsPath);
        if (labels.Length != images.Count)
        {
            throw new DataFormatException(labelsPath,
                $"has {labels.Length} labels but {imagesPath} has {images.Count} images");
        }

        // p / 127.5 - 1 through a table: exact at both ends (0 -> -1, 255 -> 1).
        float[] scale = new float[256];
        for (int p = 0; p < scale.Length; p++)
        {
            scale[p] = (float)(p / 127.5 - 1.0);
        }

        byte[] pixels = images.Pixels;
        float[] features = new float[pixels.Length];
        for (int i = 0; i < pixels.Length; i++)
        {
            features[i] = scale[pixels[i]];
        }

        int[] intLabels = Array.ConvertAll(labels, b => (int)b);
        return new Dataset(name, images.Count, images.Rows * images.Cols, features, intLabels);
    }

    /// <summary>Copies the samples at <paramref name="indices"/>, in that order, into a new data
    /// set with the same name.</summary>
    /// <param name="indices">Sample indices in 0..Count−1; repeats are allowed.</param>
    /// <returns>A data set of indices.Length samples.</returns>
    /// <exception cref="ArgumentException">indices is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside 0..Count−1.</exception>
    public Dataset Subset(int[] indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        if (indices.Length == 0)
        {
            throw new ArgumentException("Dataset.Subset: indices is empty.", nameof(indices));
        }

        float[] features = new float[(long)indices.Length * Dim];
        int[] labels = new int[indices.Length];
        for (int r = 0; r < indices.Length; r++)
        {
            int source = indices[r];
            if ((uint)source >= (uint)Count)
            {
                throw new ArgumentOutOfRangeException(nameof(indices),
                    $"Dataset.Subset: indices[{r}] = {source} is outside 0..{Count - 1}.");
            }

            Array.Copy(Features, (long)source * Dim, features, (long)r * Dim, Dim);
            labels[r] = Labels[source];
        }

        return new Dataset(Name, indices.Length, Dim, features, labels);
    }

    private static string FindFile(string folder, string baseName)
    {
        string gz = Path.Combine(folder, baseName + ".gz");
        if (File.Exists(gz))
        {
            return gz;
        }

        string raw = Path.Combine(folder, baseName);
        if (File.Exists(raw))
        {
            return raw;
        }

        throw new FileNotFoundException(
            $"{gz}: file not found (searched {Path.GetFullPath(gz)} and {Path.GetFullPath(raw)}). "
            + "MNIST-layout folders hold images-idx3-ubyte(.gz) and labels-idx1-ubyte(.gz).",
            Path.GetFullPath(gz));
    }
}
