using System.Globalization;
using Mmae.Train.Data;
using Mmae.Train.Reports;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;
using static Mmae.Tests.Train.TrainTestSupport;

namespace Mmae.Tests.Train;

/// <summary>The VAE reports: latent variance, attribute directions, interpolation grids.</summary>
public sealed class ReportTests : IDisposable
{
    // Column j of the variance test data is offset_j + scale_j·(±1): mean offset_j, population
    // variance exactly scale_j². Powers of two keep every float sum exact.
    private static readonly float[] s_scales = [0.5f, 3f, 0f, 1f, 2f];
    private static readonly float[] s_offsets = [7f, -2f, 5f, 0.25f, 100f];

    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void LatentVariance_KnownColumns_SortedWithSharesAnd90PercentCount()
    {
        LatentVariance report = LatentVariance.Compute(KnownVarianceCodes(64), 64, s_scales.Length);

        // Variances 0.25, 9, 0, 1, 4: descending 9 (dim 1), 4 (4), 1 (3), 0.25 (0), 0 (2).
        Assert.Equal([1, 4, 3, 0, 2], report.Dimensions.Select(d => d.Dimension));
        Assert.Equal([1, 2, 3, 4, 5], report.Dimensions.Select(d => d.Rank));
        Assert.Equal([9.0, 4.0, 1.0, 0.25, 0.0], report.Dimensions.Select(d => d.Variance));
        Assert.Equal(14.25, report.Total);
        Assert.Equal(9.0, report.Largest);
        double[] shares = [9 / 14.25, 13 / 14.25, 14 / 14.25, 1.0, 1.0];
        Assert.Equal(shares, report.Dimensions.Select(d => Math.Round(d.CumulativeShare, 12)).ToArray(),
            (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.Equal(2, report.DimensionsFor90Percent);
        Assert.Equal(1, report.DimensionsFor(0.5));
        Assert.Equal(4, report.DimensionsFor(1.0));
        Assert.Contains("90% in 2 of 5 dimensions", report.Summary());
    }

    [Fact]
    public void LatentVariance_AllCollapsed_SharesZeroAndNoDimensions()
    {
        LatentVariance report = LatentVariance.Compute(Enumerable.Repeat(3f, 12).ToArray(), 4, 3);

        Assert.Equal(0.0, report.Total);
        Assert.All(report.Dimensions, d => Assert.Equal(0.0, d.CumulativeShare));
        Assert.Equal(0, report.DimensionsFor90Percent);
    }

    [Fact]
    public void LatentVariance_BadInput_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => LatentVariance.Compute(new float[5], 2, 3));
        Assert.Contains("expected n·m values with n, m >= 1, got 5 for n = 2, m = 3", ex.Message);

        ex = Assert.Throws<ArgumentException>(() => LatentVariance.Compute([1f, float.NaN], 1, 2));
        Assert.Contains("mu[0, 1] is NaN", ex.Message);
    }

    [Fact]
    public void LatentVariance_WriteCsv_OneRowPerDimensionInRankOrder()
    {
        LatentVariance report = LatentVariance.Compute(KnownVarianceCodes(16), 16, s_scales.Length);
        string path = _temp.File("variance.csv");

        report.WriteCsv(path);

        string[] lines = File.ReadAllLines(path);
        Assert.Equal("rank,dimension,variance,cumulative_share", lines[0]);
        Assert.Equal(s_scales.Length + 1, lines.Length);
        string[] first = lines[1].Split(',');
        Assert.Equal(["1", "1", "9"], first[..3]);
        Assert.Equal(9 / 14.25, double.Parse(first[3], CultureInfo.InvariantCulture), 12);
        Assert.Equal("5,2,0,1", lines[5]);
    }

    [Fact]
    public void LatentVariance_SaveBarChart_PngOfDocumentedSizeWithBarsInProportion()
    {
        LatentVariance report = LatentVariance.Compute(KnownVarianceCodes(16), 16, s_scales.Length);
        string path = Path.Combine(_temp.Path, "charts", "variance.png");

        report.SaveBarChart(path, "latent variance (test)");

        using Image<Rgba32> image = Image.Load<Rgba32>(path);
        Assert.Equal(
            (LatentVariance.ChartWidth, LatentVariance.ChartHeight), (image.Width, image.Height));

        // Bar heights along each bar's centre column: 9 : 4 : 1, within a pixel of rounding.
        int[] heights = Enumerable.Range(0, s_scales.Length).Select(r => BarHeight(image, r)).ToArray();
        Assert.True(heights[0] > 300, $"tallest bar {heights[0]} px");
        Assert.InRange(heights[1], heights[0] * 4 / 9 - 2, heights[0] * 4 / 9 + 2);
        Assert.InRange(heights[2], heights[0] / 9 - 2, heights[0] / 9 + 2);
        Assert.Equal(0, heights[4]);
    }

    [Fact]
    public void AttributeDirections_FactorialCodes_RecoverTheEffectsByConstruction()
    {
        // μ = A[shape] + scale·u + smile·w over every combination of shape ∈ {0, 1, 2},
        // scale ∈ {0.5, 0.75, 1} and smile ∈ {−1, 1}: every group of one factor holds the same
        // mix of the others, so the mean differences are exactly A[t] − A[s], 0.5·u and 2·w.
        const int m = 4;
        float[][] a = [[1, 0, 0, 2], [0, 1, 0, -1], [0, 0, 3, 0.5f]];
        float[] u = [2, -4, 0, 1];
        float[] w = [0, 0.5f, 1, 0];
        var mu = new List<float>();
        var shape = new List<double>();
        var scale = new List<double>();
        var smile = new List<double>();
        foreach (int s in new[] { 0, 1, 2 })
        {
            foreach (double sc in new[] { 0.5, 0.75, 1.0 })
            {
                foreach (double sm in new[] { -1.0, 1.0 })
                {
                    mu.AddRange(Enumerable.Range(0, m)
                        .Select(j => a[s][j] + (float)sc * u[j] + (float)sm * w[j]));
                    shape.Add(s);
                    scale.Add(sc);
                    smile.Add(sm);
                }
            }
        }

        float[] codes = mu.ToArray();
        int n = shape.Count;

        var shapeFactor = new FactorColumn("shape", FactorKind.Discrete, shape.ToArray());
        AttributeDirection shapeDir = AttributeDirections.Compute(
            codes, n, m, shapeFactor, source: 0, target: 2);
        AttributeDirection scaleDir = AttributeDirections.Compute(
            codes, n, m, new FactorColumn("scale", FactorKind.Continuous, scale.ToArray()));
        AttributeDirection smileDir = AttributeDirections.Compute(
            codes, n, m, new FactorColumn("Smiling", FactorKind.Binary, smile.ToArray()));

        AssertVector(a[2].Zip(a[0], (t, s) => t - s).ToArray(), shapeDir.Vector);
        Assert.Equal((0.0, 2.0), (shapeDir.SourceValue, shapeDir.TargetValue));
        Assert.Equal((6, 6), (shapeDir.SourceCount, shapeDir.TargetCount));
        AssertVector(u.Select(v => 0.5f * v).ToArray(), scaleDir.Vector);
        Assert.Equal((0.5, 1.0), (scaleDir.SourceValue, scaleDir.TargetValue));
        AssertVector(w.Select(v => 2f * v).ToArray(), smileDir.Vector);
        Assert.Equal((-1.0, 1.0), (smileDir.SourceValue, smileDir.TargetValue));
        Assert.Equal((9, 9), (smileDir.SourceCount, smileDir.TargetCount));

        // The same attribute coded 0/1 gives the same direction.
        double[] zeroOne = smile.Select(v => v > 0 ? 1.0 : 0.0).ToArray();
        AttributeDirection zeroOneDir = AttributeDirections.Compute(
            codes, n, m, new FactorColumn("Smiling", FactorKind.Binary, zeroOne));
        AssertVector(smileDir.Vector, zeroOneDir.Vector);
    }

    [Fact]
    public void AttributeDirections_ChosenValueWithoutSamples_ThrowsListingValues()
    {
        var factor = new FactorColumn("shape", FactorKind.Discrete, [0, 1, 1, 0]);

        var ex = Assert.Throws<ArgumentException>(
            () => AttributeDirections.Compute(new float[8], 4, 2, factor, source: 0, target: 3));

        Assert.Contains("factor 'shape' has no rows with value 3; values present: 0, 1.", ex.Message);
    }

    [Fact]
    public void AttributeDirections_InvalidFactors_Throw()
    {
        var ex = Assert.Throws<ArgumentException>(() => AttributeDirections.Compute(
            new float[8], 4, 2, new FactorColumn("Male", FactorKind.Binary, [1, 0, 2, 1])));
        Assert.Contains("binary factor 'Male' holds 0, 1, 2", ex.Message);

        ex = Assert.Throws<ArgumentException>(() => AttributeDirections.Compute(
            new float[8], 4, 2, new FactorColumn("Male", FactorKind.Binary, [1, 1, 1, 1])));
        Assert.Contains("has no rows with value -1", ex.Message);

        ex = Assert.Throws<ArgumentException>(() => AttributeDirections.Compute(
            new float[8], 4, 2, new FactorColumn("shape", FactorKind.Discrete, [0, 1, 1, 0]), source: 0));
        Assert.Contains("give the target value", ex.Message);

        ex = Assert.Throws<ArgumentException>(() => AttributeDirections.Compute(
            new float[8], 4, 2, new FactorColumn("scale", FactorKind.Continuous, [0, 1, 1, 0]), 0, 1));
        Assert.Contains("for discrete factors only", ex.Message);

        ex = Assert.Throws<ArgumentException>(() => AttributeDirections.Compute(
            new float[8], 4, 2, new FactorColumn("scale", FactorKind.Continuous, [0, 1, 1])));
        Assert.Contains("has 3 values and mu 8; expected n = 4 values", ex.Message);
    }

    [Fact]
    public void AttributeDirections_SaveLoad_RoundTripsVectorsAndNames()
    {
        var rng = new Random(5);
        AttributeDirection[] directions =
        [
            new("shape", FactorKind.Discrete, 0, 2, 10, 12, RandomVector(rng, 6)),
            new("Smiling", FactorKind.Binary, -1, 1, 40, 60, RandomVector(rng, 6)),
        ];
        string path = _temp.File("directions.npy");

        AttributeDirections.Save(path, directions);
        IReadOnlyList<AttributeDirection> loaded = AttributeDirections.Load(path);

        Assert.True(File.Exists(_temp.File("directions.json")));
        Assert.Equal(directions.Length, loaded.Count);
        for (int i = 0; i < directions.Length; i++)
        {
            Assert.Equal(directions[i] with { Vector = [] }, loaded[i] with { Vector = [] });
            Assert.Equal(directions[i].Vector, loaded[i].Vector);
        }
    }

    [Fact]
    public void AttributeDirections_LoadMismatchedIndex_ThrowsDataFormat()
    {
        string path = _temp.File("dirs.npy");
        AttributeDirections.Save(path, [new("a", FactorKind.Binary, -1, 1, 1, 1, [1f, 2f, 3f])]);
        Mmae.Train.Output.Npy.Write(path, new float[4], 2, 2);

        var ex = Assert.Throws<DataFormatException>(() => AttributeDirections.Load(path));

        Assert.Contains("expected shape (1, 3) as dirs.json lists, got (2, 2)", ex.Message);
    }

    [Fact]
    public void InterpolationGrid_GreyImages_PngOfMeasuredSizeWithPixelsInPlace()
    {
        const int rows = 3, columns = 5, h = 28, w = 28;
        var rng = new Random(6);
        float[] images = Enumerable.Range(0, rows * columns * h * w)
            .Select(_ => (float)(2 * rng.NextDouble() - 1))
            .ToArray();
        string path = _temp.File("grid.png");

        string[] labels = ["seven", "two", "a very long row label"];

        InterpolationGrid.Save(
            path, images, 1, h, w, [0, 0.25, 0.5, 0.75, 1], labels, "interpolation",
            PixelRange.MinusOneToOne);

        using Image<Rgba32> image = Image.Load<Rgba32>(path);
        Assert.Equal(InterpolationGrid.Measure(rows, columns, h, w), (image.Width, image.Height));
        (int left, int top) = CellOrigin(image, rows, columns, h, w, row: 2, column: 3);
        int zoom = InterpolationGrid.Zoom(h, w);
        foreach ((int y, int x) in new[] { (0, 0), (5, 17), (27, 27) })
        {
            float value = images[((2 * columns + 3) * h + y) * w + x];
            byte expected = InterpolationGrid.ToByte(value, PixelRange.MinusOneToOne);
            Rgba32 pixel = image[left + x * zoom + zoom / 2, top + y * zoom + zoom / 2];
            Assert.Equal((expected, expected, expected), (pixel.R, pixel.G, pixel.B));
        }
    }

    [Fact]
    public void InterpolationGrid_RgbPlanarImages_ChannelsInPlace()
    {
        const int rows = 2, columns = 3, h = 8, w = 8;
        var rng = new Random(7);
        float[] images = Enumerable.Range(0, rows * columns * 3 * h * w)
            .Select(_ => (float)rng.NextDouble())
            .ToArray();
        string path = _temp.File("rgb.png");

        InterpolationGrid.Save(
            path, images, 3, h, w, [0, 0.5, 1], ["a", "b"], "rgb", PixelRange.ZeroToOne);

        using Image<Rgba32> image = Image.Load<Rgba32>(path);
        Assert.Equal(InterpolationGrid.Measure(rows, columns, h, w), (image.Width, image.Height));
        (int left, int top) = CellOrigin(image, rows, columns, h, w, row: 1, column: 2);
        int zoom = InterpolationGrid.Zoom(h, w);
        int start = (1 * columns + 2) * 3 * h * w, plane = h * w, at = 3 * w + 5;
        Rgba32 pixel = image[left + 5 * zoom, top + 3 * zoom];
        Assert.Equal(
            (InterpolationGrid.ToByte(images[start + at], PixelRange.ZeroToOne),
                InterpolationGrid.ToByte(images[start + plane + at], PixelRange.ZeroToOne),
                InterpolationGrid.ToByte(images[start + 2 * plane + at], PixelRange.ZeroToOne)),
            (pixel.R, pixel.G, pixel.B));
    }

    [Fact]
    public void InterpolationGrid_WrongImageCount_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => InterpolationGrid.Save(
            _temp.File("x.png"), new float[10], 1, 2, 2, [0, 1], ["a"], "t", PixelRange.ZeroToOne));

        Assert.Contains(
            "expected 1 rows × 2 alphas of 1×2×2 images (8 values, channels 1 or 3), got 10",
            ex.Message);
    }

    [Fact]
    public void InterpolationGrid_ToByte_MapsRangesAndClips()
    {
        static byte Symmetric(float v) => InterpolationGrid.ToByte(v, PixelRange.MinusOneToOne);
        static byte Unit(float v) => InterpolationGrid.ToByte(v, PixelRange.ZeroToOne);

        Assert.Equal(((byte)0, (byte)128, (byte)255), (Symmetric(-1f), Symmetric(0f), Symmetric(1f)));
        Assert.Equal(((byte)0, (byte)255, (byte)0), (Unit(-0.5f), Unit(3f), Unit(float.NaN)));
    }

    private static float[] KnownVarianceCodes(int n)
    {
        int m = s_scales.Length;
        var codes = new float[n * m];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < m; j++)
            {
                codes[i * m + j] = s_offsets[j] + ((i + j) % 2 == 0 ? s_scales[j] : -s_scales[j]);
            }
        }

        return codes;
    }

    // Pixels of the bar colour in the centre column of rank r's slot (the chart's plot box
    // spans x 84..776).
    private static int BarHeight(Image<Rgba32> image, int rank)
    {
        const int left = 84, plotWidth = LatentVariance.ChartWidth - 84 - 24;
        int x = left + (int)((rank + 0.5) * plotWidth / s_scales.Length);
        int count = 0;
        for (int y = 0; y < image.Height; y++)
        {
            Rgba32 p = image[x, y];
            if (p.R == 31 && p.G == 119 && p.B == 180)
            {
                count++;
            }
        }

        return count;
    }

    // The top-left pixel of grid cell (row, column), found from the right and bottom edges of
    // the image, which the layout documents: cells of zoomed size with 4-pixel gaps, a 10-pixel
    // margin on the right and at the bottom.
    private static (int Left, int Top) CellOrigin(
        Image<Rgba32> image,
        int rows,
        int columns,
        int h,
        int w,
        int row,
        int column)
    {
        int zoom = InterpolationGrid.Zoom(h, w);
        int gridRight = image.Width - 10, gridBottom = image.Height - 10;
        int left = gridRight - (columns - column) * (w * zoom + 4) + 4;
        int top = gridBottom - (rows - row) * (h * zoom + 4) + 4;
        return (left, top);
    }

    private static float[] RandomVector(Random rng, int m) =>
        Enumerable.Range(0, m).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();

    private static void AssertVector(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int j = 0; j < expected.Length; j++)
        {
            Assert.True(
                Math.Abs(expected[j] - actual[j]) <= 1e-5f,
                $"element {j}: expected {expected[j]}, got {actual[j]}");
        }
    }
}
