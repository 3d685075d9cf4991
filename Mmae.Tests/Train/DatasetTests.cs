using Mmae.Train.Data;
using Xunit;
using static Mmae.Tests.Train.TrainTestSupport;

namespace Mmae.Tests.Train;

public sealed class DatasetTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void LoadMnistFolder_BundledMnist10k_HasExpectedShapeAndRange()
    {
        string folder = Path.Combine(RepoRoot(), "data", "mnist-10k");

        Dataset data = Dataset.LoadMnistFolder(folder, "mnist-10k");

        Assert.Equal("mnist-10k", data.Name);
        Assert.Equal(10_000, data.Count);
        Assert.Equal(28 * 28, data.Dim);
        Assert.Equal(10_000 * 784, data.Features.Length);
        Assert.All(data.Labels, label => Assert.InRange(label, 0, 9));
        Assert.Equal(10, data.Labels.Distinct().Count());
        Assert.Equal(-1f, data.Features.Min());
        Assert.Equal(1f, data.Features.Max());
    }

    [Fact]
    public void LoadMnistFolder_PixelScaling_MapsBytesToMinusOneToOne()
    {
        byte[] pixels = [0, 255, 51, 204];
        WriteFolder(_temp.Path, pixels, [1, 2, 2], [7], gzip: false);

        Dataset data = Dataset.LoadMnistFolder(_temp.Path, "tiny");

        Assert.Equal([-1f, 1f, (float)(51 / 127.5 - 1), (float)(204 / 127.5 - 1)],
            data.Features);
        Assert.Equal([7], data.Labels);
        Assert.Equal(4, data.Dim);
    }

    [Fact]
    public void LoadMnistFolder_GzAndRawBothPresent_PrefersGz()
    {
        WriteFolder(_temp.Path, [10, 20], [2, 1, 1], [1, 2], gzip: false);
        WriteFolder(_temp.Path, [30, 40], [2, 1, 1], [3, 4], gzip: true);

        Dataset data = Dataset.LoadMnistFolder(_temp.Path, "both");

        Assert.Equal([3, 4], data.Labels);
    }

    [Fact]
    public void LoadMnistFolder_LabelCountDiffers_ThrowsNamingBothFilesAndCounts()
    {
        WriteFolder(_temp.Path, Pattern(3 * 4, 1), [3, 2, 2], [1, 2], gzip: true);

        var ex = Assert.Throws<DataFormatException>(
            () => Dataset.LoadMnistFolder(_temp.Path, "bad"));

        string labels = Path.Combine(_temp.Path, "labels-idx1-ubyte.gz");
        string images = Path.Combine(_temp.Path, "images-idx3-ubyte.gz");
        Assert.Equal($"{labels}: has 2 labels but {images} has 3 images", ex.Message);
    }

    [Fact]
    public void LoadMnistFolder_MissingLabels_ThrowsListingBothPathsSearched()
    {
        File.WriteAllBytes(Path.Combine(_temp.Path, "images-idx3-ubyte"),
            Idx(0x803, [1, 1, 1], [0]));

        var ex = Assert.Throws<FileNotFoundException>(
            () => Dataset.LoadMnistFolder(_temp.Path, "bad"));

        Assert.Contains(Path.Combine(_temp.Path, "labels-idx1-ubyte.gz"), ex.Message);
        Assert.Contains(Path.Combine(_temp.Path, "labels-idx1-ubyte") + ")", ex.Message);
    }

    [Fact]
    public void LoadMnistFolder_MissingFolder_ThrowsWithPath()
    {
        string folder = _temp.File("absent");

        var ex = Assert.Throws<DirectoryNotFoundException>(
            () => Dataset.LoadMnistFolder(folder, "bad"));

        Assert.Contains(folder, ex.Message);
    }

    [Fact]
    public void Subset_Indices_CopiesRowsAndLabelsInOrder()
    {
        var data = new Dataset("d", 3, 2, [0, 1, 10, 11, 20, 21], [5, 6, 7]);

        Dataset subset = data.Subset([2, 0, 2]);

        Assert.Equal(3, subset.Count);
        Assert.Equal([20f, 21, 0, 1, 20, 21], subset.Features);
        Assert.Equal([7, 5, 7], subset.Labels);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(-1)]
    public void Subset_IndexOutOfRange_Throws(int index)
    {
        var data = new Dataset("d", 3, 1, [0, 1, 2], [0, 1, 2]);

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => data.Subset([0, index]));

        Assert.Contains($"indices[1] = {index}", ex.Message);
    }

    [Fact]
    public void Subset_Empty_ThrowsArgumentException()
    {
        var data = new Dataset("d", 1, 1, [0], [0]);

        Assert.Throws<ArgumentException>(() => data.Subset([]));
    }

    [Fact]
    public void Constructor_FeatureLengthMismatch_ThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(
            () => new Dataset("d", 2, 3, new float[5], [0, 1]));

        Assert.Contains("expected 6 features (2 x 3), got 5", ex.Message);
    }

    private static void WriteFolder(string folder, byte[] pixels, int[] imageDims,
        byte[] labels, bool gzip)
    {
        byte[] images = Idx(0x803, imageDims, pixels);
        byte[] labelBytes = Idx(0x801, [labels.Length], labels);
        string suffix = gzip ? ".gz" : "";
        File.WriteAllBytes(Path.Combine(folder, "images-idx3-ubyte" + suffix),
            gzip ? Gzip(images) : images);
        File.WriteAllBytes(Path.Combine(folder, "labels-idx1-ubyte" + suffix),
            gzip ? Gzip(labelBytes) : labelBytes);
    }
}
