using Mmae.Train.Data;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;

namespace Mmae.Tests.Train;

public sealed class CelebaTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Load_TallImage_CropsCentreSquareAndReadsAttributes()
    {
        // 6 wide x 10 tall: rows 0-1 and 8-9 red (cut away), rows 2-7 blue (the centre square).
        WriteImage("000001.png", 6, 10, (x, y) => y is < 2 or > 7 ? new Rgb24(255, 0, 0) : new Rgb24(0, 0, 255));
        WriteImage("000002.jpg", 4, 4, (_, _) => new Rgb24(255, 255, 255));
        WriteAttributes(2, "Smiling Male", "000001.png  1 -1", "000002.jpg -1  1");

        Dataset data = Celeba.Load(_temp.Path, size: 3, PixelRange.ZeroToOne);

        Assert.Equal(new ImageShape(3, 3, 3), data.Image);
        Assert.Equal(2, data.Count);
        Assert.All(data.Features[..9], v => Assert.Equal(0f, v));      // R plane of image 0
        Assert.All(data.Features[18..27], v => Assert.Equal(1f, v));   // B plane of image 0
        Assert.All(data.Features[27..], v => Assert.Equal(1f, v, 2));  // white JPEG
        Assert.Equal(FactorKind.Binary, data.Factors!["Smiling"].Kind);
        Assert.Equal([1, 0], data.Factors["Smiling"].Classes);
        Assert.Equal([1f, -1f], data.Factors["Smiling"].Values);
        Assert.Equal([0, 1], data.Labels);
    }

    [Fact]
    public void Load_ImagesInOfficialSubfolder_AndMaxCount_ReadsFirstOnly()
    {
        Directory.CreateDirectory(_temp.File("img_align_celeba"));
        WriteImage(Path.Combine("img_align_celeba", "a.png"), 2, 2, (x, _) => new Rgb24((byte)(x * 255), 0, 0));
        WriteAttributes(2, "Young", "a.png 1", "missing.png 1");

        Dataset data = Celeba.Load(_temp.Path, size: 2, maxCount: 1);

        Assert.Equal(1, data.Count);
        Assert.Equal([-1f, 1f, -1f, 1f], data.Features[..4]);
    }

    [Theory]
    [InlineData("x\nA\n", "line 1: expected the image count, found 'x'")]
    [InlineData("1\nA B\na.png 1\n", "line 3: expected a file name and 2 values, found 2 fields")]
    [InlineData("1\nA\na.png 0\n", "line 3: attribute A is '0', expected 1 or -1")]
    [InlineData("2\nA\na.png 1\n", "line 4: file ends, but line 1 declares 2 images")]
    [InlineData("1\nA\n../a.png 1\n", "line 3: '../a.png' is not a plain image file name")]
    public void Load_BadAttributesFile_ThrowsWithLine(string text, string expected)
    {
        WriteImage("a.png", 2, 2, (_, _) => new Rgb24(1, 2, 3));
        File.WriteAllText(_temp.File("list_attr_celeba.txt"), text);

        var ex = Assert.Throws<DataFormatException>(() => Celeba.Load(_temp.Path, 2));

        Assert.Equal($"{_temp.File("list_attr_celeba.txt")}: {expected}", ex.Message);
    }

    [Fact]
    public void Load_ImageNotDecodable_ThrowsNamingTheImage()
    {
        File.WriteAllText(_temp.File("a.png"), "not a png");
        WriteAttributes(1, "A", "a.png 1");

        var ex = Assert.Throws<DataFormatException>(() => Celeba.Load(_temp.Path, 2));

        Assert.StartsWith($"{_temp.File("a.png")}: cannot decode the image", ex.Message);
    }

    [Fact]
    public void Load_MissingImage_ThrowsFileNotFound()
    {
        WriteAttributes(1, "A", "b.png 1");

        var ex = Assert.Throws<FileNotFoundException>(() => Celeba.Load(_temp.Path, 2));

        Assert.Contains(_temp.File("b.png"), ex.Message);
    }

    private void WriteImage(string name, int width, int height, Func<int, int, Rgb24> pixel)
    {
        using var image = new Image<Rgb24>(width, height);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                image[x, y] = pixel(x, y);
            }
        }

        image.Save(_temp.File(name));
    }

    private void WriteAttributes(int count, string names, params string[] rows) =>
        File.WriteAllLines(_temp.File("list_attr_celeba.txt"), [count.ToString(), names, .. rows]);
}
