using Mmae.Train.Data;
using PureHDF;
using Xunit;

namespace Mmae.Tests.Train;

public sealed class Shapes3dTests : IDisposable
{
    private const int Side = 64;
    private const int ImageBytes = Side * Side * 3;

    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Load_Fixture_TransposesToPlanesAndRanksFactors()
    {
        string path = Write(5);

        Dataset data = Shapes3d.Load(path, PixelRange.ZeroToOne);

        Assert.Equal(5, data.Count);
        Assert.Equal(new ImageShape(3, Side, Side), data.Image);

        // Stored (row, col, channel) lands at plane channel, offset row * 64 + col.
        byte[] hwc = Pixels(5);
        foreach ((int i, int r, int c, int ch) in new[] { (0, 0, 0, 0), (2, 5, 7, 1), (4, 63, 63, 2) })
        {
            float stored = hwc[i * ImageBytes + (r * Side + c) * 3 + ch] / 255f;
            Assert.Equal(stored, data.Features[i * ImageBytes + ch * Side * Side + r * Side + c], 6);
        }

        FactorTable factors = data.Factors!;
        Assert.Equal(Shapes3d.FactorNames, factors.Factors.Select(f => f.Name));
        Assert.Equal(FactorKind.Discrete, factors["shape"].Kind);
        Assert.Equal([0, 1, 2, 3, 0], factors["shape"].Classes);
        Assert.Equal(factors["shape"].Classes, data.Labels);
        Assert.Equal([0.75f, 0.75f + 0.1f, 0.75f + 0.2f, 0.75f + 0.3f, 0.75f + 0.4f],
            factors["scale"].Values);
        Assert.Equal([0, 1, 2, 3, 4], factors["scale"].Classes);
    }

    [Fact]
    public void Load_MaxCount_TakesAnEvenStride()
    {
        string path = Write(10);

        Dataset data = Shapes3d.Load(path, PixelRange.ZeroToOne, maxCount: 4);

        // stride ceil(10 / 4) = 3: images 0, 3, 6, 9.
        Assert.Equal(4, data.Count);
        Assert.Equal([0, 3, 2, 1], data.Labels);
        Dataset all = Shapes3d.Load(path, PixelRange.ZeroToOne);
        Assert.Equal(all.Features.AsSpan(9 * ImageBytes, ImageBytes).ToArray(), data.Features[(3 * ImageBytes)..]);
    }

    [Fact]
    public void Load_MissingLabels_ThrowsListingWhatTheFileHolds()
    {
        string path = _temp.File("s.h5");
        new H5File { ["images"] = new H5Dataset(new byte[ImageBytes], fileDims: [1, Side, Side, 3]) }
            .Write(path);

        var ex = Assert.Throws<DataFormatException>(() => Shapes3d.Load(path));

        Assert.Equal($"{path}: missing dataset 'labels'; the file holds: images", ex.Message);
    }

    [Fact]
    public void Load_LabelsAsFloat32_ThrowsWrongType()
    {
        string path = _temp.File("s.h5");
        new H5File
        {
            ["images"] = new H5Dataset(new byte[ImageBytes], fileDims: [1, Side, Side, 3]),
            ["labels"] = new H5Dataset(new float[6], fileDims: [1, 6]),
        }.Write(path);

        var ex = Assert.Throws<DataFormatException>(() => Shapes3d.Load(path));

        Assert.Equal($"{path}: labels: expected float64, found FloatingPoint of 4 bytes", ex.Message);
    }

    [Fact]
    public void Load_WrongImageShape_ThrowsWithShape()
    {
        string path = _temp.File("s.h5");
        new H5File
        {
            ["images"] = new H5Dataset(new byte[32 * 32 * 3], fileDims: [1, 32, 32, 3]),
            ["labels"] = new H5Dataset(new double[6], fileDims: [1, 6]),
        }.Write(path);

        var ex = Assert.Throws<DataFormatException>(() => Shapes3d.Load(path));

        Assert.Equal($"{path}: images: expected shape (N, 64, 64, 3), found (1, 32, 32, 3)", ex.Message);
    }

    [Fact]
    public void Load_NotHdf5_ThrowsDataFormatException()
    {
        string path = _temp.File("s.h5");
        File.WriteAllBytes(path, TrainTestSupport.Pattern(3000, 4));

        var ex = Assert.Throws<DataFormatException>(() => Shapes3d.Load(path));

        Assert.StartsWith($"{path}: not a readable HDF5 file", ex.Message);
    }

    [Fact]
    public void Load_TruncatedFile_ThrowsDataFormatException()
    {
        string path = Write(3);
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        var ex = Assert.Throws<DataFormatException>(() => Shapes3d.Load(path));

        Assert.StartsWith(path + ": ", ex.Message);
    }

    private static byte[] Pixels(int n) => TrainTestSupport.Pattern(n * ImageBytes, 9);

    // n images of random bytes; labels: hues i/10, scale 0.75 + 0.1 i, shape i % 4, orientation.
    private string Write(int n)
    {
        double[] labels = new double[n * 6];
        for (int i = 0; i < n; i++)
        {
            double[] row = [i / 10.0, (n - i) / 10.0, 0.5, 0.75 + 0.1 * i, i % 4, -30 + 4.0 * i];
            row.CopyTo(labels, 6 * i);
        }

        string path = _temp.File("3dshapes.h5");
        new H5File
        {
            ["images"] = new H5Dataset(Pixels(n), fileDims: [(ulong)n, Side, Side, 3]),
            ["labels"] = new H5Dataset(labels, fileDims: [(ulong)n, 6]),
        }.Write(path);
        return path;
    }
}
