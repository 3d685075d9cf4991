using System.Globalization;

namespace Mmae.Train.Data;

/// <summary>The kinds of input corruption <see cref="Corruption"/> applies.</summary>
public enum CorruptionKind
{
    /// <summary>Additive Gaussian noise, independent per value.</summary>
    Noise,

    /// <summary>Gaussian blur within each image plane (separable: rows, then columns).</summary>
    Blur,

    /// <summary>A constant added to every value, clipped to the pixel range.</summary>
    Brightness,
}

/// <summary>
/// A corruption of evaluation inputs at a severity 1–5, parsed from text such as
/// <c>blur:3</c>, applied deterministically from a seed.
/// </summary>
/// <remarks>
/// Parameters per severity 1, 2, 3, 4, 5 (each strictly increasing, so the damage grows with
/// severity). w is the width of the data's value range: high − low of its pixel range for
/// images (2 for [−1, 1], 1 for [0, 1]); for flat data, the standard deviation of all its
/// values.
/// <code>
/// noise       σ = w × 0.04, 0.08, 0.12, 0.18, 0.27   (images clipped to the pixel range)
/// blur        σ = 0.5, 1.0, 1.5, 2.0, 3.0 pixels     (kernel radius ⌈3σ⌉, edges repeat)
/// brightness  + w × 0.10, 0.20, 0.30, 0.40, 0.50     (images clipped to the pixel range)
/// </code>
/// Blur needs image data (an <see cref="ImageShape"/>); on flat data it throws.
/// </remarks>
/// <param name="Kind">What the corruption does.</param>
/// <param name="Severity">How strong it is, 1 (mild) to 5 (strong).</param>
public sealed record Corruption(CorruptionKind Kind, int Severity)
{
    /// <summary>The names <see cref="Parse"/> accepts.</summary>
    public const string Names = "noise, blur, brightness";

    private static readonly double[] s_noiseSigma = [0.04, 0.08, 0.12, 0.18, 0.27];
    private static readonly double[] s_blurSigma = [0.5, 1.0, 1.5, 2.0, 3.0];
    private static readonly double[] s_brightness = [0.10, 0.20, 0.30, 0.40, 0.50];

    /// <summary>The corruption's main parameter at this severity, as in the table of the
    /// remarks: the noise σ or brightness shift as a fraction of the value range, or the blur
    /// σ in pixels.</summary>
    public double Parameter => Kind switch
    {
        CorruptionKind.Noise => s_noiseSigma[Severity - 1],
        CorruptionKind.Blur => s_blurSigma[Severity - 1],
        _ => s_brightness[Severity - 1],
    };

    /// <summary>Parses <c>name:severity</c>, for example <c>blur:3</c>.</summary>
    /// <param name="text">A name from <see cref="Names"/>, a colon, and a severity 1–5.</param>
    /// <exception cref="FormatException">The text has no colon, an unknown name, or a severity
    /// that is not an integer in 1..5; the message quotes the text and lists what is
    /// accepted.</exception>
    public static Corruption Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int colon = text.IndexOf(':');
        if (colon < 0)
        {
            throw new FormatException(
                $"corruption '{text}': expected name:severity such as blur:3 (names: {Names})");
        }

        string name = text[..colon].Trim().ToLowerInvariant();
        CorruptionKind kind = name switch
        {
            "noise" => CorruptionKind.Noise,
            "blur" => CorruptionKind.Blur,
            "brightness" => CorruptionKind.Brightness,
            _ => throw new FormatException(
                $"corruption '{text}': unknown name '{name}'; known: {Names}"),
        };
        string level = text[(colon + 1)..].Trim();
        if (!int.TryParse(level, NumberStyles.None, CultureInfo.InvariantCulture, out int severity)
            || severity is < 1 or > 5)
        {
            throw new FormatException(
                $"corruption '{text}': severity '{level}' is not an integer in 1..5");
        }

        return new Corruption(kind, severity);
    }

    /// <summary>The text <see cref="Parse"/> reads back, for example <c>blur:3</c>.</summary>
    public override string ToString() =>
        $"{Kind.ToString().ToLowerInvariant()}:{Severity.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>A corrupted copy of <paramref name="data"/> (labels, factors and shape
    /// kept).</summary>
    /// <param name="data">Clean inputs.</param>
    /// <param name="seed">Seed of the noise; the same seed gives the same result.</param>
    /// <exception cref="ArgumentOutOfRangeException">Severity is not 1..5.</exception>
    /// <exception cref="NotSupportedException">Blur of data without an image shape.</exception>
    public Dataset Apply(Dataset data, int seed)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (Severity is < 1 or > 5)
        {
            throw new ArgumentOutOfRangeException(nameof(Severity),
                $"Corruption.Apply: severity must be 1..5, got {Severity}.");
        }

        (float low, float high, double width) = Bounds(data);
        float[] x = (float[])data.Features.Clone();
        switch (Kind)
        {
            case CorruptionKind.Noise:
                AddNoise(x, (float)(Parameter * width), seed);
                break;
            case CorruptionKind.Blur:
                ImageShape image = data.Image ?? throw new NotSupportedException(
                    $"Corruption blur: data set '{data.Name}' is not images (no image shape); "
                    + "noise and brightness work on flat data.");
                Blur(x, data.Count, image, Parameter);
                break;
            default:
                float shift = (float)(Parameter * width);
                for (int i = 0; i < x.Length; i++)
                {
                    x[i] += shift;
                }

                break;
        }

        if (data.PixelRange is not null)
        {
            for (int i = 0; i < x.Length; i++)
            {
                x[i] = Math.Clamp(x[i], low, high);
            }
        }

        return new Dataset(data.Name, data.Count, data.Dim, x, data.Labels, data.Image, data.Factors,
            data.PixelRange);
    }

    // The value range: the pixel range for images, else (-inf, inf) with the data's std as width.
    private static (float Low, float High, double Width) Bounds(Dataset data)
    {
        if (data.PixelRange is { } range)
        {
            (float low, float high) = PixelScaling.Bounds(range);
            return (low, high, high - low);
        }

        double mean = data.Features.Average(v => (double)v);
        double variance = data.Features.Average(v => (v - mean) * (v - mean));
        return (float.NegativeInfinity, float.PositiveInfinity, Math.Sqrt(variance));
    }

    private static void AddNoise(float[] x, float sigma, int seed)
    {
        var rng = new Random(seed);
        for (int i = 0; i < x.Length; i += 2)
        {
            // Box-Muller: two independent standard normals from two uniforms.
            double u1 = 1.0 - rng.NextDouble();
            double u2 = rng.NextDouble();
            double r = Math.Sqrt(-2.0 * Math.Log(u1));
            x[i] += sigma * (float)(r * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < x.Length)
            {
                x[i + 1] += sigma * (float)(r * Math.Sin(2 * Math.PI * u2));
            }
        }
    }

    // N = images, C×H×W per image; each plane is blurred along rows, then along columns, with a
    // normalised kernel and repeated edges, so a constant plane stays exactly constant in mean.
    private static void Blur(float[] x, int count, ImageShape shape, double sigma)
    {
        int radius = (int)Math.Ceiling(3 * sigma);
        float[] kernel = new float[2 * radius + 1];
        double sum = 0;
        for (int k = -radius; k <= radius; k++)
        {
            sum += kernel[k + radius] = (float)Math.Exp(-k * k / (2 * sigma * sigma));
        }

        for (int k = 0; k < kernel.Length; k++)
        {
            kernel[k] = (float)(kernel[k] / sum);
        }

        int h = shape.Height, w = shape.Width;
        float[] tmp = new float[h * w];
        for (int plane = 0; plane < count * shape.Channels; plane++)
        {
            Span<float> p = x.AsSpan(plane * h * w, h * w);
            Convolve(p, tmp, h, w, kernel, alongRows: true);
            Convolve(tmp, p, h, w, kernel, alongRows: false);
        }
    }

    // dst = src convolved with kernel along each row (alongRows) or each column; src: (h, w).
    private static void Convolve(
        ReadOnlySpan<float> src,
        Span<float> dst,
        int h,
        int w,
        float[] kernel,
        bool alongRows)
    {
        int radius = kernel.Length / 2;
        for (int r = 0; r < h; r++)
        {
            for (int c = 0; c < w; c++)
            {
                float acc = 0;
                for (int k = -radius; k <= radius; k++)
                {
                    int rr = alongRows ? r : Math.Clamp(r + k, 0, h - 1);
                    int cc = alongRows ? Math.Clamp(c + k, 0, w - 1) : c;
                    acc += kernel[k + radius] * src[rr * w + cc];
                }

                dst[r * w + c] = acc;
            }
        }
    }
}
