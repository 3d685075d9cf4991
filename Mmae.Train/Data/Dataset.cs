namespace Mmae.Train.Data;

/// <summary>
/// A labelled data set held in memory: <see cref="Count"/> samples of <see cref="Dim"/> features,
/// optionally images of a known <see cref="Image"/> shape with known generative
/// <see cref="Factors"/>.
/// </summary>
/// <remarks>
/// Image rows hold channels × height × width values: planes first, then rows, then columns.
/// Readers for each format: <see cref="DataSource.Open"/>.
/// </remarks>
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
    /// <param name="image">The shape of one image when rows are images; its size must be
    /// dim.</param>
    /// <param name="factors">Generative factors of count samples, when known.</param>
    /// <param name="pixelRange">The interval pixels were mapped to, for image data.</param>
    /// <exception cref="ArgumentException">The array lengths do not match count and dim, a
    /// size is not positive, the image size is not dim, or the factors do not hold count
    /// samples.</exception>
    public Dataset(
        string name,
        int count,
        int dim,
        float[] features,
        int[] labels,
        ImageShape? image = null,
        FactorTable? factors = null,
        PixelRange? pixelRange = null)
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

        if (image is not null && (image.Channels <= 0 || image.Height <= 0 || image.Width <= 0
            || (long)image.Channels * image.Height * image.Width != dim))
        {
            throw new ArgumentException(
                $"Dataset: image shape {image} does not hold dim {dim} values.", nameof(image));
        }

        if (factors is not null && factors.Count != count)
        {
            throw new ArgumentException(
                $"Dataset: factors hold {factors.Count} samples, expected {count}.",
                nameof(factors));
        }

        Name = name;
        Count = count;
        Dim = dim;
        Features = features;
        Labels = labels;
        Image = image;
        Factors = factors;
        PixelRange = pixelRange;
    }

    /// <summary>Short name used in logs and output paths.</summary>
    public string Name { get; }

    /// <summary>Number of samples.</summary>
    public int Count { get; }

    /// <summary>Features per sample (784 for 28 × 28 images).</summary>
    public int Dim { get; }

    /// <summary>Count × Dim values, row-major; for images, scaled to
    /// <see cref="PixelRange"/>.</summary>
    public float[] Features { get; }

    /// <summary>One class label per sample.</summary>
    public int[] Labels { get; }

    /// <summary>The shape of one image, or null when rows are not images.</summary>
    public ImageShape? Image { get; }

    /// <summary>The generative factors per sample, or null when the data set has none.</summary>
    public FactorTable? Factors { get; }

    /// <summary>The interval image pixels were mapped to, or null for data that are not
    /// pixels.</summary>
    public PixelRange? PixelRange { get; }

    /// <summary>The same images with pixels mapped linearly to <paramref name="range"/>
    /// (a copy; this data set is unchanged, and returned as it is when already in that
    /// range).</summary>
    /// <param name="range">The interval wanted, for example [−1, 1] for a Tanh decoder.</param>
    /// <exception cref="InvalidOperationException">The data set is not pixels
    /// (<see cref="PixelRange"/> is null).</exception>
    public Dataset WithPixelRange(PixelRange range)
    {
        if (PixelRange is not { } current)
        {
            throw new InvalidOperationException(
                $"Dataset '{Name}': features are not pixels, so they have no pixel range to change.");
        }

        if (current == range)
        {
            return this;
        }

        (float fromLow, float fromHigh) = PixelScaling.Bounds(current);
        (float toLow, float toHigh) = PixelScaling.Bounds(range);
        float scale = (toHigh - toLow) / (fromHigh - fromLow);
        float[] features = Array.ConvertAll(Features, v => toLow + (v - fromLow) * scale);
        return new Dataset(Name, Count, Dim, features, Labels, Image, Factors, range);
    }

    /// <summary>
    /// Loads an MNIST-layout folder: <c>images-idx3-ubyte</c> and <c>labels-idx1-ubyte</c>, each
    /// either gzip-compressed with a ".gz" suffix (preferred when both exist) or raw; or the
    /// same names with the official "train-" (else "t10k-") prefix.
    /// </summary>
    /// <param name="folder">Folder holding the two files.</param>
    /// <param name="name">Name given to the data set.</param>
    /// <param name="range">Where pixels 0 and 255 go: by default −1 and 1 (p / 127.5 − 1).</param>
    /// <returns>Images flattened to rows of rows × cols features, of image shape
    /// 1 × rows × cols.</returns>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">Neither name of a file exists in the folder;
    /// the message lists both paths searched.</exception>
    /// <exception cref="IOException">A file cannot be opened or read.</exception>
    /// <exception cref="DataFormatException">A file is malformed, or the label count differs
    /// from the image count.</exception>
    public static Dataset LoadMnistFolder(
        string folder,
        string name,
        PixelRange range = Data.PixelRange.MinusOneToOne)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(name);
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException(
                $"{folder}: data folder not found (searched {Path.GetFullPath(folder)}). "
                + $"It must hold {ImagesFileName}(.gz) and {LabelsFileName}(.gz).");
        }

        string prefix = MnistPrefix(folder) ?? "";
        string imagesPath = FindFile(folder, prefix + ImagesFileName);
        string labelsPath = FindFile(folder, prefix + LabelsFileName);
        IdxImages images = IdxReader.ReadImages(imagesPath);
        byte[] labels = IdxReader.ReadLabels(labelsPath);
        if (labels.Length != images.Count)
        {
            throw new DataFormatException(labelsPath,
                $"has {labels.Length} labels but {imagesPath} has {images.Count} images");
        }

        float[] features = PixelScaling.Scale(images.Pixels, 255, range);
        int[] intLabels = Array.ConvertAll(labels, b => (int)b);
        return new Dataset(name, images.Count, images.Rows * images.Cols, features, intLabels,
            new ImageShape(1, images.Rows, images.Cols), pixelRange: range);
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

        return new Dataset(Name, indices.Length, Dim, features, labels, Image,
            Factors?.Subset(indices), PixelRange);
    }

    /// <summary>The same samples under another name (nothing is copied).</summary>
    internal Dataset Renamed(string name) =>
        new(name, Count, Dim, Features, Labels, Image, Factors, PixelRange);

    /// <summary>
    /// The file-name prefix of the IDX pair in <paramref name="folder"/>: "" for this project's
    /// layout (images-idx3-ubyte), else "train-" or "t10k-" for the files as MNIST and
    /// Fashion-MNIST publish them (the training set when both are there); null when none is.
    /// </summary>
    internal static string? MnistPrefix(string folder)
    {
        foreach (string prefix in new[] { "", "train-", "t10k-" })
        {
            string images = Path.Combine(folder, prefix + ImagesFileName);
            if (File.Exists(images) || File.Exists(images + ".gz"))
            {
                return prefix;
            }
        }

        return null;
    }

    /// <summary>The path of <paramref name="baseName"/>.gz in <paramref name="folder"/>, else of
    /// <paramref name="baseName"/> raw.</summary>
    /// <exception cref="FileNotFoundException">Neither exists; the message lists both
    /// paths.</exception>
    internal static string FindFile(string folder, string baseName)
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
            + "MNIST-layout folders hold images-idx3-ubyte(.gz) and labels-idx1-ubyte(.gz), or the same "
            + "names with a train- or t10k- prefix.",
            Path.GetFullPath(gz));
    }
}
