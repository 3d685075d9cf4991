using Mmae.Train.Data;
using Xunit;
using static Mmae.Tests.Train.DataFixtures;
using static Mmae.Tests.Train.TrainTestSupport;

namespace Mmae.Tests.Train;

public sealed class DspritesTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void LoadFolder_BundledRandom20k_MatchesProvenance()
    {
        string folder = Path.Combine(RepoRoot(), "data", "dsprites-random20k");

        Dataset data = Dsprites.LoadFolder(folder, PixelRange.ZeroToOne);

        Assert.Equal(20_000, data.Count);
        Assert.Equal(new ImageShape(1, 64, 64), data.Image);
        Assert.Equal(PixelRange.ZeroToOne, data.PixelRange);

        // Pixels are stored as 0/1, so with range [0, 1] the features are exactly those.
        Assert.Equal(-1, data.Features.AsSpan().IndexOfAnyExcept(0f, 1f));
        Assert.True(data.Features.AsSpan().Contains(1f), "no pixel is 1");
        FactorTable factors = data.Factors!;
        Assert.Equal(["shape", "scale", "orientation", "posX", "posY"], factors.Factors.Select(f => f.Name));
        Assert.Equal(FactorKind.Discrete, factors["shape"].Kind);
        Assert.All(factors.Factors.Skip(1), f => Assert.Equal(FactorKind.Continuous, f.Kind));
        int[] shapeCounts = new int[3];
        foreach (int c in data.Labels)
        {
            shapeCounts[c]++;
        }

        Assert.Equal([6617, 6636, 6747], shapeCounts);
        Assert.Equal([3, 6, 40, 32, 32], factors.Factors.Select(f => f.ClassCount));
        Assert.Equal(0.5f, factors["scale"].Values.Min());
        Assert.Equal(1f, factors["scale"].Values.Max());
    }

    [Fact]
    public void LoadFolder_DefaultRange_MapsZeroAndOneToMinusOneAndOne()
    {
        WriteFolder(_temp.Path, [0, 1], latentsRows: 1, pixelValue: 1);

        Dataset data = Dsprites.LoadFolder(_temp.Path);

        Assert.Equal(PixelRange.MinusOneToOne, data.PixelRange);
        Assert.Equal(-1f, data.Features[0]);
        Assert.Equal(1f, data.Features[1]);
        Assert.Equal(0.3f, data.Factors!["scale"].Values[0], 6);
    }

    [Fact]
    public void LoadFolder_PixelOf255_ThrowsSayingPixelsAreZeroOrOne()
    {
        WriteFolder(_temp.Path, [0, 255], latentsRows: 1, pixelValue: 1);

        var ex = Assert.Throws<DataFormatException>(() => Dsprites.LoadFolder(_temp.Path));

        Assert.Equal($"{Path.Combine(_temp.Path, "images-idx3-ubyte")}: images: pixel 1 of image 0 is 255; "
            + "dSprites pixels are 0 or 1", ex.Message);
    }

    [Theory]
    [InlineData(0, "has 0 rows, but the images file holds 1 images")]
    [InlineData(2, "more than 1 rows, but the images file holds 1 images")]
    public void LoadFolder_RowCountDiffers_Throws(int rows, string expected)
    {
        WriteFolder(_temp.Path, [0, 1], latentsRows: rows, pixelValue: 1);

        var ex = Assert.Throws<DataFormatException>(() => Dsprites.LoadFolder(_temp.Path));

        Assert.Equal($"{Path.Combine(_temp.Path, "latents.csv")}: {expected}", ex.Message);
    }

    [Fact]
    public void LoadFolder_MissingColumn_ThrowsNamingIt()
    {
        WriteFolder(_temp.Path, [0, 1], latentsRows: 1, pixelValue: 1);
        string csv = Path.Combine(_temp.Path, "latents.csv");
        File.WriteAllText(csv, File.ReadAllText(csv).Replace("posY_value", "posy_value"));

        var ex = Assert.Throws<DataFormatException>(() => Dsprites.LoadFolder(_temp.Path));

        Assert.StartsWith($"{csv}: missing column 'posY_value' in the header", ex.Message);
    }

    [Theory]
    [InlineData("x")]
    [InlineData("nan")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    public void LoadFolder_BadNumber_ThrowsWithLineAndColumn(string bad)
    {
        WriteFolder(_temp.Path, [0, 1], latentsRows: 1, pixelValue: 1);
        string csv = Path.Combine(_temp.Path, "latents.csv");
        File.WriteAllText(csv, File.ReadAllText(csv).Replace(",0.3,", $",{bad},"));

        var ex = Assert.Throws<DataFormatException>(() => Dsprites.LoadFolder(_temp.Path));

        Assert.Equal($"{csv}: line 2, column scale_value: '{bad}' is not a finite number", ex.Message);
    }

    [Fact]
    public void LoadNpz_Fixture_ReadsImagesAndFactorsInOrder()
    {
        string path = _temp.File("d.npz");
        File.WriteAllBytes(path, NpzBytes(true, DspritesEntries(7)));

        Dataset data = Dsprites.LoadNpz(path, PixelRange.ZeroToOne);

        Assert.Equal(7, data.Count);
        Assert.Equal([0, 1, 2, 0, 1, 2, 0], data.Labels);
        Assert.Equal([0, 1, 2, 3, 4, 5, 0], data.Factors!["scale"].Classes);
        Assert.Equal([0, 0, 1, 1, 2, 2, 3], data.Factors["posY"].Classes);
        Assert.Equal(0.5f + 0.1f * 3, data.Factors["scale"].Values[3], 6);
        byte[] expected = DspritesEntries(7)[0].Npy[^(7 * 4096)..];
        Assert.Equal(expected.Select(b => (float)b), data.Features);
    }

    [Fact]
    public void LoadNpz_MaxCount_KeepsMatchingImagesAndLatentsInFileOrder()
    {
        string path = _temp.File("d.npz");
        var entries = DspritesEntries(10);
        File.WriteAllBytes(path, NpzBytes(true, entries));
        byte[] pixels = entries[0].Npy[^(10 * 4096)..];

        Dataset data = Dsprites.LoadNpz(path, PixelRange.ZeroToOne, maxCount: 4);

        // With 10 images, posX's class is the original index.
        int[] kept = data.Factors!["posX"].Classes;
        Assert.Equal(4, kept.Length);
        Assert.Equal(kept.Order(), kept);
        Assert.Equal(4, kept.Distinct().Count());
        for (int k = 0; k < 4; k++)
        {
            Assert.Equal(kept[k] % 3, data.Labels[k]);
            Assert.Equal(pixels.AsSpan(kept[k] * 4096, 4096).ToArray().Select(b => (float)b),
                data.Features.AsSpan(k * 4096, 4096).ToArray());
        }

        Assert.Equal(kept, Dsprites.LoadNpz(path, maxCount: 4).Factors!["posX"].Classes);
    }

    [Fact]
    public void LoadNpz_WrongDtype_ThrowsNamingKeyAndTypes()
    {
        var entries = DspritesEntries(2);
        entries[2] = ("latents_values", NpyBytes("<i8", [2, 6], Raw(new long[12])));
        string path = _temp.File("d.npz");
        File.WriteAllBytes(path, NpzBytes(false, entries));

        var ex = Assert.Throws<DataFormatException>(() => Dsprites.LoadNpz(path));

        Assert.Equal($"{path}: latents_values: expected dtype float64, found '<i8' (int64)",
            ex.Message);
    }

    [Fact]
    public void LoadNpz_WrongShape_ThrowsWithBothShapes()
    {
        var entries = DspritesEntries(2);
        entries[1] = ("latents_classes", NpyBytes("<i8", [3, 6], Raw(new long[18])));
        string path = _temp.File("d.npz");
        File.WriteAllBytes(path, NpzBytes(false, entries));

        var ex = Assert.Throws<DataFormatException>(() => Dsprites.LoadNpz(path));

        Assert.EndsWith("latents_classes: expected shape (2, 6) to match imgs, found (3, 6)", ex.Message);
    }

    [Fact]
    public void LoadNpz_MissingKey_Throws()
    {
        string path = _temp.File("d.npz");
        File.WriteAllBytes(path, NpzBytes(false, DspritesEntries(2)[..2]));

        var ex = Assert.Throws<DataFormatException>(() => Dsprites.LoadNpz(path));

        Assert.StartsWith($"{path}: missing key 'latents_values'", ex.Message);
    }

    [Fact]
    public void WithPixelRange_RoundTrip_RestoresFeaturesAndKeepsFactors()
    {
        string path = _temp.File("d.npz");
        File.WriteAllBytes(path, NpzBytes(false, DspritesEntries(3)));
        Dataset zeroOne = Dsprites.LoadNpz(path, PixelRange.ZeroToOne);

        Dataset tanh = zeroOne.WithPixelRange(PixelRange.MinusOneToOne);

        Assert.Equal(zeroOne.Features.Select(v => 2 * v - 1), tanh.Features);
        Assert.Same(zeroOne.Factors, tanh.Factors);
        Assert.Equal(zeroOne.Features, tanh.WithPixelRange(PixelRange.ZeroToOne).Features);
    }

    [Fact]
    public void Subset_KeepsImageShapeAndPicksFactorRows()
    {
        string path = _temp.File("d.npz");
        File.WriteAllBytes(path, NpzBytes(false, DspritesEntries(6)));
        Dataset data = Dsprites.LoadNpz(path);

        Dataset sub = data.Subset([5, 1]);

        Assert.Equal(data.Image, sub.Image);
        Assert.Equal([5, 1], sub.Factors!["scale"].Classes);
        Assert.Equal(data.Features.AsSpan(5 * 4096, 4096).ToArray(), sub.Features[..4096]);
    }

    [Fact]
    public void WithPixelRange_FlatData_ThrowsInvalidOperation()
    {
        var data = new Dataset("flat", 1, 2, [1f, 2f], [0]);

        var ex = Assert.Throws<InvalidOperationException>(() => data.WithPixelRange(PixelRange.ZeroToOne));

        Assert.Contains("not pixels", ex.Message);
    }

    // One image of 64 x 64 whose first two pixels are given, the rest pixelValue, and a
    // latents.csv of the given number of identical rows.
    private static void WriteFolder(string folder, byte[] firstPixels, int latentsRows, byte pixelValue)
    {
        byte[] pixels = Enumerable.Repeat(pixelValue, 4096).ToArray();
        firstPixels.CopyTo(pixels, 0);
        File.WriteAllBytes(Path.Combine(folder, "images-idx3-ubyte"), Idx(0x803, [1, 64, 64], pixels));
        string header = "row,original_index,color,shape,scale,orientation,posX,posY,color_value,"
            + "shape_value,scale_value,orientation_value,posX_value,posY_value";
        string row = "0,6,0,1,0,0,0,6,1,2,0.3,0,0,0.1935483871";
        File.WriteAllLines(Path.Combine(folder, "latents.csv"),
            [header, .. Enumerable.Repeat(row, latentsRows)]);
    }
}
