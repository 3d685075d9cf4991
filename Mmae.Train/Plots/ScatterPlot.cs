using System.Globalization;
using Mmae.Train.Output;
using SixLabors.ImageSharp.PixelFormats;

namespace Mmae.Train.Plots;

/// <summary>
/// Draws a 2-D embedding as a PNG scatter plot, one colour per class label, with a title,
/// axis ticks and a legend.
/// </summary>
/// <remarks>
/// The image is <see cref="ImageSize"/> pixels square. Both axes use the same scale, so
/// distances in the picture are true to the embedding. Points are drawn in index order as
/// opaque dots whose size shrinks as n grows.
/// Limitation: the palette has 10 colours; label L uses colour L mod 10, so with more than
/// 10 classes two classes share a colour. The legend lists at most
/// <see cref="MaxLegendEntries"/> labels and then "...".
/// </remarks>
public static class ScatterPlot
{
    /// <summary>Width and height of the PNG in pixels.</summary>
    public const int ImageSize = 800;

    /// <summary>Most labels listed in the legend.</summary>
    public const int MaxLegendEntries = 30;

    // A 10-colour qualitative palette (the widely used "category10" colours), 0xRRGGBB.
    private static readonly int[] s_palette =
    [
        0x1F77B4, 0xFF7F0E, 0x2CA02C, 0xD62728, 0x9467BD,
        0x8C564B, 0xE377C2, 0x7F7F7F, 0xBCBD22, 0x17BECF,
    ];

    private const int TitleScale = 2;
    private const int TextScale = 2;
    private const int TickScale = 1;
    private const int MarginTop = 44;
    private const int MarginBottom = 40;
    private const int MarginLeft = 64;
    private const int MarginRight = 120;
    private const int TickLength = 5;
    private const int TargetTicks = 6;

    // Extra room around the data so edge points are not cut by the frame.
    private const double PaddingFraction = 0.04;

    private static readonly Rgba32 s_background = new(255, 255, 255);
    private static readonly Rgba32 s_ink = new(20, 20, 20);
    private static readonly Rgba32 s_axis = new(90, 90, 90);
    private static readonly Rgba32 s_grid = new(232, 232, 232);

    /// <summary>The colour of <paramref name="label"/> as 0xRRGGBB.</summary>
    /// <param name="label">Any class label; negative labels wrap like positive ones.</param>
    /// <returns>Entry (label mod 10) of the palette.</returns>
    public static int LabelColor(int label) =>
        s_palette[((label % s_palette.Length) + s_palette.Length) % s_palette.Length];

    /// <summary>Saves a scatter plot of <paramref name="xy"/> coloured by
    /// <paramref name="labels"/> as a PNG.</summary>
    /// <param name="path">Destination; written to a temporary file in the same folder, then
    /// renamed. A missing folder is created.</param>
    /// <param name="xy">n × 2 coordinates, row-major. Points with a NaN or infinite coordinate
    /// are skipped (and do not affect the axis range).</param>
    /// <param name="labels">n class labels.</param>
    /// <param name="title">Text drawn above the plot; cut with "..." when too wide.
    /// Characters the built-in font lacks are drawn as '?'.</param>
    /// <exception cref="ArgumentException">xy.Length is odd or labels.Length is not
    /// xy.Length / 2.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static void Save(string path, float[] xy, int[] labels, string title)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(xy);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(title);
        if (xy.Length % 2 != 0 || labels.Length != xy.Length / 2)
        {
            throw new ArgumentException(
                $"ScatterPlot.Save: expected xy of 2 x labels.Length = {2L * labels.Length} "
                + $"values, got {xy.Length}.", nameof(xy));
        }

        Canvas canvas = Draw(xy, labels, title);
        AtomicFile.Write(path, canvas.SavePng);
    }

    private static Canvas Draw(float[] xy, int[] labels, string title)
    {
        var canvas = new Canvas(ImageSize, ImageSize, s_background);
        int plotLeft = MarginLeft;
        int plotTop = MarginTop;
        int plotWidth = ImageSize - MarginLeft - MarginRight;
        int plotHeight = ImageSize - MarginTop - MarginBottom;
        int n = labels.Length;

        // Equal-scale mapping: the larger span fills its axis, the other is centred.
        (double minX, double maxX, double minY, double maxY) = Bounds(xy, n);
        double spanX = maxX - minX;
        double spanY = maxY - minY;
        double scale = Math.Min(plotWidth / spanX, plotHeight / spanY);
        double midX = 0.5 * (minX + maxX);
        double midY = 0.5 * (minY + maxY);
        double ToPixelX(double x) => plotLeft + 0.5 * plotWidth + (x - midX) * scale;
        double ToPixelY(double y) => plotTop + 0.5 * plotHeight - (y - midY) * scale;
        double visibleHalfX = 0.5 * plotWidth / scale;
        double visibleHalfY = 0.5 * plotHeight / scale;

        DrawTicks(canvas, midX - visibleHalfX, midX + visibleHalfX, horizontal: true,
            ToPixelX, plotLeft, plotTop, plotWidth, plotHeight);
        DrawTicks(canvas, midY - visibleHalfY, midY + visibleHalfY, horizontal: false,
            ToPixelY, plotLeft, plotTop, plotWidth, plotHeight);

        double radius = n > 5000 ? 1.6 : n > 1000 ? 2.2 : 3.0;
        for (int i = 0; i < n; i++)
        {
            float x = xy[2 * i];
            float y = xy[2 * i + 1];
            if (float.IsFinite(x) && float.IsFinite(y))
            {
                canvas.FillDisc(ToPixelX(x), ToPixelY(y), radius, ToRgba(LabelColor(labels[i])));
            }
        }

        canvas.StrokeRect(plotLeft, plotTop, plotWidth, plotHeight, s_axis);
        DrawTitle(canvas, title);
        DrawLegend(canvas, labels, plotLeft + plotWidth + 16, plotTop);
        return canvas;
    }

    private static (double MinX, double MaxX, double MinY, double MaxY) Bounds(float[] xy, int n)
    {
        double minX = double.PositiveInfinity, maxX = double.NegativeInfinity;
        double minY = double.PositiveInfinity, maxY = double.NegativeInfinity;
        for (int i = 0; i < n; i++)
        {
            float x = xy[2 * i];
            float y = xy[2 * i + 1];
            if (float.IsFinite(x) && float.IsFinite(y))
            {
                minX = Math.Min(minX, x);
                maxX = Math.Max(maxX, x);
                minY = Math.Min(minY, y);
                maxY = Math.Max(maxY, y);
            }
        }

        if (minX > maxX)
        {
            return (-1, 1, -1, 1);
        }

        // A zero span (one point, or all on a line) gets a unit or relative width.
        double span = Math.Max(maxX - minX, maxY - minY);
        if (span == 0)
        {
            span = Math.Max(1.0, Math.Max(Math.Abs(minX), Math.Abs(minY)));
        }

        double pad = PaddingFraction * span;
        double halfX = 0.5 * Math.Max(maxX - minX, 1e-6 * span) + pad;
        double halfY = 0.5 * Math.Max(maxY - minY, 1e-6 * span) + pad;
        double cx = 0.5 * (minX + maxX);
        double cy = 0.5 * (minY + maxY);
        return (cx - halfX, cx + halfX, cy - halfY, cy + halfY);
    }

    private static void DrawTicks(Canvas canvas, double low, double high, bool horizontal,
        Func<double, double> toPixel, int left, int top, int width, int height)
    {
        double step = NiceStep((high - low) / TargetTicks);
        int glyphHeight = BitmapFont.GlyphHeight * TickScale;
        double first = Math.Ceiling(low / step);
        for (int t = 0; t <= 2 * TargetTicks && (first + t) * step <= high; t++)
        {
            // Tick values as index times step (no drift from repeated adds); -0 printed as 0.
            double value = (first + t) * step + 0.0;
            string text = value.ToString("G4", CultureInfo.InvariantCulture);
            int p = (int)Math.Round(toPixel(value));
            int textWidth = BitmapFont.Measure(text, TickScale);
            if (horizontal)
            {
                canvas.FillRect(p, top + 1, 1, height - 2, s_grid);
                canvas.FillRect(p, top + height, 1, TickLength, s_axis);
                canvas.DrawText(text, p - textWidth / 2, top + height + TickLength + 3,
                    TickScale, s_axis);
            }
            else
            {
                canvas.FillRect(left + 1, p, width - 2, 1, s_grid);
                canvas.FillRect(left - TickLength, p, TickLength, 1, s_axis);
                canvas.DrawText(text, left - TickLength - 4 - textWidth, p - glyphHeight / 2,
                    TickScale, s_axis);
            }
        }
    }

    // The smallest of 1, 2, 5 x 10^k that is at least rough.
    internal static double NiceStep(double rough)
    {
        double power = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        foreach (double factor in new[] { 1.0, 2.0, 5.0, 10.0 })
        {
            if (factor * power >= rough)
            {
                return factor * power;
            }
        }

        return 10 * power;
    }

    private static void DrawTitle(Canvas canvas, string title)
    {
        int maxChars = (ImageSize - 16) / (BitmapFont.Advance * TitleScale);
        string text = title.ReplaceLineEndings(" ");
        if (text.Length > maxChars)
        {
            text = text[..(maxChars - 3)] + "...";
        }

        int width = BitmapFont.Measure(text, TitleScale);
        canvas.DrawText(text, (ImageSize - width) / 2, 12, TitleScale, s_ink);
    }

    private static void DrawLegend(Canvas canvas, int[] labels, int left, int top)
    {
        int[] distinct = labels.Distinct().Order().ToArray();
        int rowHeight = BitmapFont.GlyphHeight * TextScale + 8;
        int swatch = BitmapFont.GlyphHeight * TextScale - 4;
        canvas.DrawText("label", left, top, TextScale, s_ink);
        int y = top + rowHeight + 4;
        for (int e = 0; e < distinct.Length; e++)
        {
            if (e == MaxLegendEntries)
            {
                canvas.DrawText("...", left, y, TextScale, s_ink);
                break;
            }

            canvas.FillRect(left, y + 1, swatch, swatch, ToRgba(LabelColor(distinct[e])));
            string text = distinct[e].ToString(CultureInfo.InvariantCulture);
            canvas.DrawText(text, left + swatch + 8, y, TextScale, s_ink);
            y += rowHeight;
        }
    }

    private static Rgba32 ToRgba(int rgb) =>
        new((byte)(rgb >> 16), (byte)(rgb >> 8), (byte)rgb);
}
