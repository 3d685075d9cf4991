using Mmae.Train.Data;
using Xunit;

namespace Mmae.Tests.Train;

public sealed class CorruptionTests
{
    // Blur of a constant image sums normalised float weights: exact up to float rounding.
    private const float ConstantTolerance = 1e-5f;

    [Theory]
    [InlineData("noise")]
    [InlineData("blur")]
    [InlineData("brightness")]
    public void Apply_Severity1To5_DistanceFromCleanGrows(string name)
    {
        Dataset clean = RandomImages(PixelRange.MinusOneToOne, seed: 3);
        double previous = 0;
        for (int severity = 1; severity <= 5; severity++)
        {
            Dataset corrupted = Corruption.Parse($"{name}:{severity}").Apply(clean, seed: 7);

            double distance = Distance(clean.Features, corrupted.Features);
            Assert.True(distance > previous, $"{name}:{severity}: distance {distance} <= {previous}");
            previous = distance;
        }
    }

    [Fact]
    public void Blur_ConstantImage_KeepsEveryValue()
    {
        var data = new Dataset("c", 2, 3 * 5 * 7, Enumerable.Repeat(0.37f, 2 * 105).ToArray(), [0, 1],
            new ImageShape(3, 5, 7), pixelRange: PixelRange.ZeroToOne);

        Dataset blurred = new Corruption(CorruptionKind.Blur, 5).Apply(data, seed: 1);

        Assert.All(blurred.Features, v => Assert.Equal(0.37f, v, ConstantTolerance));
    }

    [Fact]
    public void Blur_SinglePixel_SpreadsSymmetricallyAndKeepsTheSum()
    {
        float[] x = new float[9 * 9];
        x[4 * 9 + 4] = 1f;
        var data = new Dataset("dot", 1, 81, x, [0], new ImageShape(1, 9, 9), pixelRange: PixelRange.ZeroToOne);

        float[] y = new Corruption(CorruptionKind.Blur, 1).Apply(data, seed: 1).Features;

        Assert.Equal(1f, y.Sum(), ConstantTolerance);
        Assert.Equal(y[3 * 9 + 4], y[5 * 9 + 4]);
        Assert.Equal(y[4 * 9 + 3], y[4 * 9 + 5]);
        Assert.Equal(y[3 * 9 + 4], y[4 * 9 + 3]);
        Assert.True(y[4 * 9 + 4] < 1f && y[4 * 9 + 4] > y[3 * 9 + 4]);
    }

    [Fact]
    public void Noise_SameSeed_SameResult_OtherSeed_Differs()
    {
        Dataset clean = RandomImages(PixelRange.ZeroToOne, seed: 1);
        var noise = new Corruption(CorruptionKind.Noise, 3);

        Assert.Equal(noise.Apply(clean, 5).Features, noise.Apply(clean, 5).Features);
        Assert.NotEqual(noise.Apply(clean, 5).Features, noise.Apply(clean, 6).Features);
    }

    [Fact]
    public void Noise_FlatData_HasTheTableSigmaTimesTheDataStd()
    {
        var rng = new Random(2);
        float[] x = Enumerable.Range(0, 40_000).Select(_ => (float)(3 * rng.NextGaussian())).ToArray();
        var data = new Dataset("flat", 20_000, 2, x, new int[20_000]);

        float[] y = new Corruption(CorruptionKind.Noise, 4).Apply(data, seed: 9).Features;

        double std = Math.Sqrt(x.Zip(y, (a, b) => (double)(b - a) * (b - a)).Average());
        Assert.Equal(0.18 * 3, std, 0.02);
    }

    [Fact]
    public void Brightness_StaysInsidePixelRange()
    {
        Dataset clean = RandomImages(PixelRange.MinusOneToOne, seed: 4);

        Dataset bright = new Corruption(CorruptionKind.Brightness, 5).Apply(clean, seed: 0);

        Assert.Equal(1f, bright.Features.Max());
        Assert.True(bright.Features.Min() >= -1f + 0.5f * 2 - 1e-6f);
    }

    [Fact]
    public void Blur_FlatData_ThrowsNotSupported()
    {
        var data = new Dataset("flat", 1, 3, [1f, 2f, 3f], [0]);

        var ex = Assert.Throws<NotSupportedException>(() => Corruption.Parse("blur:1").Apply(data, 0));

        Assert.Contains("'flat' is not images", ex.Message);
    }

    [Theory]
    [InlineData("blur", "expected name:severity such as blur:3")]
    [InlineData("fog:2", "unknown name 'fog'; known: noise, blur, brightness")]
    [InlineData("blur:0", "severity '0' is not an integer in 1..5")]
    [InlineData("noise:6", "severity '6' is not an integer in 1..5")]
    [InlineData("noise:x", "severity 'x' is not an integer in 1..5")]
    public void Parse_BadText_ThrowsFormatExceptionQuotingIt(string text, string expected)
    {
        var ex = Assert.Throws<FormatException>(() => Corruption.Parse(text));

        Assert.Equal($"corruption '{text}': {expected}", ex.Message.Split(" (names")[0]);
    }

    [Fact]
    public void Parse_ToString_RoundTrips()
    {
        Corruption c = Corruption.Parse(" Brightness : 4 ");

        Assert.Equal(new Corruption(CorruptionKind.Brightness, 4), c);
        Assert.Equal("brightness:4", c.ToString());
    }

    private static Dataset RandomImages(PixelRange range, int seed)
    {
        var rng = new Random(seed);
        (float low, float high) = range == PixelRange.ZeroToOne ? (0f, 1f) : (-1f, 1f);
        int dim = 3 * 12 * 10;
        float[] x = Enumerable.Range(0, 4 * dim).Select(_ => low + (high - low) * rng.NextSingle()).ToArray();
        return new Dataset("r", 4, dim, x, new int[4], new ImageShape(3, 12, 10), pixelRange: range);
    }

    private static double Distance(float[] a, float[] b) =>
        Math.Sqrt(a.Zip(b, (x, y) => (double)(x - y) * (x - y)).Sum());
}
