using Mmae.Train.Plots;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;
using static Mmae.Tests.Train.TrainTestSupport;

namespace Mmae.Tests.Train;

public sealed class ScatterPlotTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Save_LabelledPoints_WritesPngWithEveryUsedPaletteColour()
    {
        const int n = 500;
        var random = new Random(61);
        int[] labels = Enumerable.Range(0, n).Select(i => i % 7).ToArray();
        float[] xy = new float[2 * n];
        for (int i = 0; i < n; i++)
        {
            xy[2 * i] = (float)(3 * labels[i] + random.NextGaussian());
            xy[2 * i + 1] = (float)(labels[i] % 3 + 0.3 * random.NextGaussian());
        }

        string path = _temp.File("plot.png");

        ScatterPlot.Save(path, xy, labels, "test plot: 7 classes (n=500)");

        using Image<Rgba32> image = Image.Load<Rgba32>(path);
        Assert.Equal(ScatterPlot.ImageSize, image.Width);
        Assert.Equal(ScatterPlot.ImageSize, image.Height);
        var counts = CountColours(image);
        for (int label = 0; label < 7; label++)
        {
            int rgb = ScatterPlot.LabelColor(label);
            counts.TryGetValue(rgb, out int count);
            Assert.True(count > 50, $"label {label}: {count} pixels of #{rgb:X6}");
        }

        for (int label = 7; label < 10; label++)
        {
            Assert.False(counts.ContainsKey(ScatterPlot.LabelColor(label)),
                $"unused label {label}'s colour appears");
        }

        Assert.Equal([path], Directory.GetFiles(_temp.Path));
    }

    [Fact]
    public void Save_ExistingFileAndDegenerateData_ReplacesFile()
    {
        string path = _temp.File("same.png");
        File.WriteAllText(path, "old contents");

        ScatterPlot.Save(path, [1f, 1f, 1f, 1f, float.NaN, 0f], [0, 1, 2], "all on one spot");

        using Image<Rgba32> image = Image.Load<Rgba32>(path);
        Assert.Equal(ScatterPlot.ImageSize, image.Width);
    }

    [Fact]
    public void Save_LabelCountMismatch_ThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(
            () => ScatterPlot.Save(_temp.File("x.png"), new float[6], [0, 1], "t"));

        Assert.Contains("expected xy of 2 x labels.Length = 4 values, got 6", ex.Message);
    }

    [Fact]
    public void LabelColor_WrapsModuloTen()
    {
        Assert.Equal(0x1F77B4, ScatterPlot.LabelColor(0));
        Assert.Equal(ScatterPlot.LabelColor(3), ScatterPlot.LabelColor(13));
        Assert.Equal(ScatterPlot.LabelColor(9), ScatterPlot.LabelColor(-1));
    }

    private static Dictionary<int, int> CountColours(Image<Rgba32> image)
    {
        var counts = new Dictionary<int, int>();
        for (int y = 0; y < image.Height; y++)
        {
            for (int x = 0; x < image.Width; x++)
            {
                Rgba32 p = image[x, y];
                int rgb = (p.R << 16) | (p.G << 8) | p.B;
                counts[rgb] = counts.GetValueOrDefault(rgb) + 1;
            }
        }

        return counts;
    }
}
