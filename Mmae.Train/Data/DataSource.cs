namespace Mmae.Train.Data;

/// <summary>The data set formats <see cref="DataSource.Open"/> reads.</summary>
public enum DataKind
{
    /// <summary>Tell the kind from the files (see <see cref="DataSource.Detect"/>).</summary>
    Auto,

    /// <summary>MNIST layout: images-idx3-ubyte(.gz) and labels-idx1-ubyte(.gz).</summary>
    Idx,

    /// <summary>Fashion-MNIST: the same IDX layout as MNIST.</summary>
    FashionMnist,

    /// <summary>CIFAR-10 binary batches (*.bin, optional batches.meta.txt).</summary>
    Cifar10,

    /// <summary>dSprites: the official .npz, or IDX images with latents.csv.</summary>
    Dsprites,

    /// <summary>3D Shapes: an .h5 file with images and labels.</summary>
    Shapes3d,

    /// <summary>CelebA: list_attr_celeba.txt and aligned images.</summary>
    Celeba,
}

/// <summary>How <see cref="DataSource.Open"/> turns files into a <see cref="Dataset"/>.</summary>
public sealed record DataOptions
{
    /// <summary>Where the darkest and brightest pixels go; default [−1, 1].</summary>
    public PixelRange Range { get; init; } = PixelRange.MinusOneToOne;

    /// <summary>Side of the square images CelebA is resized to (256 suits the conv model;
    /// the default 64 keeps memory small). Other formats keep their own size.</summary>
    public int ImageSize { get; init; } = 64;

    /// <summary>At most this many samples: the first ones, except that 3D Shapes takes an even
    /// stride through its factor-ordered file and the dSprites .npz a fixed random subset (in
    /// file order), so that neither loses a factor's range. Null reads all.</summary>
    public int? MaxCount { get; init; }
}

/// <summary>
/// One entry point for every data format: opens a file or folder as the given
/// <see cref="DataKind"/>, or detects the kind from the files.
/// </summary>
public static class DataSource
{
    /// <summary>The names <see cref="ParseKind"/> accepts, for usage text.</summary>
    public const string KindNames = "auto, mnist (or idx), fashion-mnist, cifar10, dsprites, shapes3d, celeba";

    /// <summary>Parses a kind name as given on the command line (case-insensitive).</summary>
    /// <param name="name">One of <see cref="KindNames"/>.</param>
    /// <exception cref="ArgumentException">The name is not a known kind; the message lists
    /// them.</exception>
    public static DataKind ParseKind(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Trim().ToLowerInvariant() switch
        {
            "auto" => DataKind.Auto,
            "mnist" or "idx" => DataKind.Idx,
            "fashion-mnist" or "fashionmnist" => DataKind.FashionMnist,
            "cifar10" or "cifar-10" => DataKind.Cifar10,
            "dsprites" => DataKind.Dsprites,
            "shapes3d" or "3dshapes" => DataKind.Shapes3d,
            "celeba" => DataKind.Celeba,
            _ => throw new ArgumentException(
                $"unknown data kind '{name}'; known: {KindNames}", nameof(name)),
        };
    }

    /// <summary>Tells the kind of data at <paramref name="path"/> from the files there.</summary>
    /// <param name="path">A file or folder.</param>
    /// <returns>A file: .npz is dSprites, .h5/.hdf5 3D Shapes. A folder: list_attr_celeba.txt
    /// means CelebA, latents.csv dSprites, *.bin files CIFAR-10, [train-|t10k-]images-idx3-ubyte(.gz) IDX
    /// (MNIST and Fashion-MNIST look the same, so both are <see cref="DataKind.Idx"/>), and a
    /// folder holding exactly one .npz or .h5 file is read as that file.</returns>
    /// <exception cref="FileNotFoundException">Nothing exists at the path.</exception>
    /// <exception cref="DataFormatException">The files match no known kind; the message says
    /// what was looked for.</exception>
    public static DataKind Detect(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (File.Exists(path))
        {
            return FileKind(path) ?? throw new DataFormatException(path,
                "cannot tell the data kind from the file name; expected .npz (dsprites) or "
                + ".h5 (shapes3d), or pass the kind");
        }

        if (!Directory.Exists(path))
        {
            throw new FileNotFoundException(
                $"{path}: no such file or folder (searched {Path.GetFullPath(path)})",
                Path.GetFullPath(path));
        }

        bool Has(string name) => File.Exists(Path.Combine(path, name));
        if (Has(Celeba.AttributesFileName))
        {
            return DataKind.Celeba;
        }

        if (Has(Dsprites.LatentsFileName))
        {
            return DataKind.Dsprites;
        }

        if (Cifar10.BatchFiles(path).Length > 0)
        {
            return DataKind.Cifar10;
        }

        if (Dataset.MnistPrefix(path) is not null)
        {
            return DataKind.Idx;
        }

        return SingleDataFile(path) is { } single
            ? FileKind(single)!.Value
            : throw new DataFormatException(path,
                "cannot tell the data kind: found none of list_attr_celeba.txt (celeba), "
                + "latents.csv (dsprites), *.bin (cifar10), images-idx3-ubyte(.gz) (mnist), "
                + "nor a single .npz or .h5 file; pass the kind");
    }

    /// <summary>Opens the data set at <paramref name="path"/>.</summary>
    /// <param name="path">A file or folder, as each kind expects.</param>
    /// <param name="kind">The format, or <see cref="DataKind.Auto"/> to detect it.</param>
    /// <param name="options">Pixel range, CelebA image size and a maximum count; null for
    /// the defaults.</param>
    /// <returns>The data set, named after the file or folder.</returns>
    /// <exception cref="FileNotFoundException">A file is missing; the message names the path
    /// searched.</exception>
    /// <exception cref="DirectoryNotFoundException">A folder is missing.</exception>
    /// <exception cref="IOException">A file cannot be read.</exception>
    /// <exception cref="DataFormatException">The files are malformed or of no known
    /// kind.</exception>
    public static Dataset Open(string path, DataKind kind = DataKind.Auto, DataOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= new DataOptions();
        if (kind == DataKind.Auto)
        {
            kind = Detect(path);
        }

        // A folder holding one .npz or .h5 stands for that file.
        string target = kind is DataKind.Dsprites or DataKind.Shapes3d && Directory.Exists(path)
            && !File.Exists(Path.Combine(path, Dsprites.LatentsFileName))
            ? SingleDataFile(path) ?? path
            : path;
        string name = Path.GetFileNameWithoutExtension(Path.GetFullPath(target).TrimEnd('/', '\\'));
        Dataset data = kind switch
        {
            DataKind.Idx or DataKind.FashionMnist => Dataset.LoadMnistFolder(target, name, options.Range),
            DataKind.Cifar10 => Cifar10.Load(target, options.Range),
            DataKind.Dsprites when File.Exists(target) =>
                Dsprites.LoadNpz(target, options.Range, options.MaxCount),
            DataKind.Dsprites => Dsprites.LoadFolder(target, options.Range),
            DataKind.Shapes3d => Shapes3d.Load(target, options.Range, options.MaxCount),
            DataKind.Celeba => Celeba.Load(target, options.ImageSize, options.Range, options.MaxCount),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "DataSource.Open: unknown kind."),
        };

        if (options.MaxCount is { } max && max < data.Count)
        {
            data = data.Subset(Enumerable.Range(0, max).ToArray());
        }

        return data.Renamed(name);
    }

    private static DataKind? FileKind(string file) =>
        Path.GetExtension(file).ToLowerInvariant() switch
        {
            ".npz" => DataKind.Dsprites,
            ".h5" or ".hdf5" => DataKind.Shapes3d,
            _ => null,
        };

    private static string? SingleDataFile(string folder)
    {
        string[] files = Directory.GetFiles(folder).Where(f => FileKind(f) is not null).ToArray();
        return files.Length == 1 ? files[0] : null;
    }
}
