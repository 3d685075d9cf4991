namespace Mmae.Train.Data;

/// <summary>The shape of one image in a data set whose rows are images: each row holds
/// <see cref="Channels"/> planes of <see cref="Height"/> × <see cref="Width"/> values, planes
/// first, then rows, then columns.</summary>
/// <param name="Channels">Colour planes: 1 for grey images, 3 for RGB (in that order).</param>
/// <param name="Height">Pixel rows.</param>
/// <param name="Width">Pixel columns.</param>
public sealed record ImageShape(int Channels, int Height, int Width)
{
    /// <summary>Values per image: Channels × Height × Width.</summary>
    public int Size => Channels * Height * Width;

    /// <summary>The shape as C×H×W, for logs.</summary>
    public override string ToString() => $"{Channels}x{Height}x{Width}";
}

/// <summary>The interval image pixels are mapped to.</summary>
public enum PixelRange
{
    /// <summary>Darkest −1, brightest 1 (suits a Tanh or linear decoder); the default, as the
    /// MNIST loader has always done.</summary>
    MinusOneToOne,

    /// <summary>Darkest 0, brightest 1 (suits a Sigmoid decoder or a Bernoulli
    /// likelihood).</summary>
    ZeroToOne,
}

/// <summary>Maps stored pixel values to floats in a <see cref="PixelRange"/>.</summary>
internal static class PixelScaling
{
    /// <summary>Lowest and highest value of <paramref name="range"/>.</summary>
    public static (float Low, float High) Bounds(PixelRange range) =>
        range == PixelRange.ZeroToOne ? (0f, 1f) : (-1f, 1f);

    /// <summary>A 256-entry table mapping a stored value p in 0..<paramref name="maxValue"/>
    /// to low + (high − low) · p / maxValue; exact at both ends.</summary>
    /// <param name="maxValue">The brightest stored value: 255 for 8-bit images, 1 for
    /// dSprites' 0/1 pixels.</param>
    /// <param name="range">The interval to map to.</param>
    public static float[] Table(int maxValue, PixelRange range)
    {
        (float low, float high) = Bounds(range);
        float[] table = new float[256];
        for (int p = 0; p < table.Length; p++)
        {
            table[p] = (float)(low + (high - (double)low) * (p / (double)maxValue));
        }

        return table;
    }

    /// <summary>Scales every byte of <paramref name="pixels"/> through <see cref="Table"/>.</summary>
    public static float[] Scale(ReadOnlySpan<byte> pixels, int maxValue, PixelRange range)
    {
        float[] table = Table(maxValue, range);
        float[] features = new float[pixels.Length];
        for (int i = 0; i < pixels.Length; i++)
        {
            features[i] = table[pixels[i]];
        }

        return features;
    }
}
