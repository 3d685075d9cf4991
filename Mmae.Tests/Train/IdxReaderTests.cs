using Mmae.Train.Data;
using Xunit;
using static Mmae.Tests.Train.TrainTestSupport;

namespace Mmae.Tests.Train;

public sealed class IdxReaderTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void ReadImages_RawFile_ReturnsHeaderAndPixels()
    {
        byte[] pixels = Pattern(3 * 4 * 5, seed: 1);
        string path = Write("images.idx", Idx(IdxReader.ImagesMagic, [3, 4, 5], pixels));

        IdxImages images = IdxReader.ReadImages(path);

        Assert.Equal((3, 4, 5), (images.Count, images.Rows, images.Cols));
        Assert.Equal(pixels, images.Pixels);
    }

    [Fact]
    public void ReadImages_GzipWithoutGzExtension_DetectedByMagic()
    {
        byte[] pixels = Pattern(7 * 28 * 28, seed: 2);
        string path = Write("images-no-suffix",
            Gzip(Idx(IdxReader.ImagesMagic, [7, 28, 28], pixels)));

        IdxImages images = IdxReader.ReadImages(path);

        Assert.Equal((7, 28, 28), (images.Count, images.Rows, images.Cols));
        Assert.Equal(pixels, images.Pixels);
    }

    [Fact]
    public void ReadLabels_GzipAndRaw_ReturnSameLabels()
    {
        byte[] labels = [3, 1, 4, 1, 5, 9, 2, 6];
        byte[] idx = Idx(IdxReader.LabelsMagic, [labels.Length], labels);
        string raw = Write("labels", idx);
        string gz = Write("labels.gz", Gzip(idx));

        Assert.Equal(labels, IdxReader.ReadLabels(raw));
        Assert.Equal(labels, IdxReader.ReadLabels(gz));
    }

    [Fact]
    public void ReadImages_MissingFile_ThrowsFileNotFoundWithPathSearched()
    {
        string path = _temp.File("nowhere-idx3-ubyte.gz");

        var ex = Assert.Throws<FileNotFoundException>(() => IdxReader.ReadImages(path));

        Assert.Contains(path, ex.Message);
        Assert.Contains("not found", ex.Message);
    }

    [Fact]
    public void ReadLabels_ImagesFile_ThrowsNamingFileAndBothMagics()
    {
        string path = Write("labels-idx1-ubyte.gz",
            Gzip(Idx(IdxReader.ImagesMagic, [1, 2, 2], [1, 2, 3, 4])));

        var ex = Assert.Throws<DataFormatException>(() => IdxReader.ReadLabels(path));

        Assert.StartsWith(path + ": expected magic 0x00000801 (IDX labels), found 0x00000803",
            ex.Message);
        Assert.Equal(path, ex.FilePath);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadImages_TruncatedPixels_ThrowsWithBothSizes(bool gzip)
    {
        byte[] idx = Idx(IdxReader.ImagesMagic, [10, 28, 28], Pattern(10 * 784 - 100, 3));
        string path = Write("truncated", gzip ? Gzip(idx) : idx);

        var ex = Assert.Throws<DataFormatException>(() => IdxReader.ReadImages(path));

        Assert.StartsWith(path + ": truncated", ex.Message);
        Assert.Contains("7840", ex.Message);
        Assert.Contains("7740", ex.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadImages_TrailingBytes_ThrowsWithBothSizes(bool gzip)
    {
        byte[] idx = Idx(IdxReader.ImagesMagic, [2, 3, 3], Pattern(18 + 5, 4));
        string path = Write("trailing", gzip ? Gzip(idx) : idx);

        var ex = Assert.Throws<DataFormatException>(() => IdxReader.ReadImages(path));

        Assert.StartsWith(path + ": 5 trailing bytes", ex.Message);
        Assert.Contains("needs 18 bytes", ex.Message);
        Assert.Contains("found 23", ex.Message);
    }

    [Fact]
    public void ReadImages_CorruptGzip_ThrowsDataFormatException()
    {
        byte[] good = Gzip(Idx(IdxReader.ImagesMagic, [4, 8, 8], Pattern(256, 5)));
        byte[] bad = good.AsSpan(0, 10).ToArray().Concat(Pattern(200, 6)).ToArray();
        string path = Write("corrupt.gz", bad);

        var ex = Assert.Throws<DataFormatException>(() => IdxReader.ReadImages(path));

        Assert.StartsWith(path + ": ", ex.Message);
        Assert.Contains("gzip", ex.Message);
    }

    [Fact]
    public void ReadImages_GzipCutMidStream_ThrowsDataFormatException()
    {
        byte[] good = Gzip(Idx(IdxReader.ImagesMagic, [50, 28, 28], Pattern(50 * 784, 7)));
        string path = Write("cut.gz", good.AsSpan(0, good.Length / 2).ToArray());

        var ex = Assert.Throws<DataFormatException>(() => IdxReader.ReadImages(path));

        Assert.StartsWith(path + ": ", ex.Message);
    }

    [Theory]
    [InlineData(0, 28, 28, "count must be positive, found 0")]
    [InlineData(5, -28, 28, "rows must be positive, found -28")]
    [InlineData(5, 28, 0, "cols must be positive, found 0")]
    public void ReadImages_NonPositiveDimension_Throws(int count, int rows, int cols,
        string expected)
    {
        string path = Write("dims", Idx(IdxReader.ImagesMagic, [count, rows, cols], []));

        var ex = Assert.Throws<DataFormatException>(() => IdxReader.ReadImages(path));

        Assert.Equal($"{path}: header {expected}", ex.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadImages_HugeHeaderSmallFile_ThrowsBeforeAllocating(bool gzip)
    {
        // 2^31 - 1 cubed overflows 64 bits; 100000 x 100000 x 1 exceeds one array.
        foreach (int[] dims in new[] { new[] { int.MaxValue, int.MaxValue, int.MaxValue },
            new[] { 100_000, 100_000, 1 }, new[] { 60_000, 28, 28 } })
        {
            byte[] idx = Idx(IdxReader.ImagesMagic, dims, Pattern(64, 8));
            string path = Write("huge", gzip ? Gzip(idx) : idx);

            var ex = Assert.Throws<DataFormatException>(() => IdxReader.ReadImages(path));

            Assert.StartsWith(path + ": ", ex.Message);
        }
    }

    [Fact]
    public void ReadLabels_FileShorterThanHeader_Throws()
    {
        string path = Write("short", [0, 0]);

        var ex = Assert.Throws<DataFormatException>(() => IdxReader.ReadLabels(path));

        Assert.Equal($"{path}: too short for an IDX header: needs at least 4 bytes, has 2",
            ex.Message);
    }

    [Fact]
    public void ReadImages_PathIsFolder_ThrowsIOExceptionNamingPath()
    {
        string path = _temp.File("a-folder");
        Directory.CreateDirectory(path);

        var ex = Assert.ThrowsAny<IOException>(() => IdxReader.ReadImages(path));

        Assert.StartsWith(path + ": ", ex.Message);
    }

    private string Write(string name, byte[] bytes)
    {
        string path = _temp.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
