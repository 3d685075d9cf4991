using System.Globalization;
using SixLabors.ImageSharp.PixelFormats;

namespace Mmae.Train.Plots;

/// <summary>The plot area of a chart, in pixels.</summary>
/// <param name="Left">Left edge.</param>
/// <param name="Top">Top edge.</param>
/// <param name="Width">Width.</param>
/// <param name="Height">Height.</param>
internal readonly record struct PlotFrame(int Left, int Top, int Width, int Height);

/// <summary>Tick marks, grid lines and labels that every chart draws the same way.</summary>
internal static class PlotAxes
{
    /// <summary>Colour of axes, ticks and tick labels.</summary>
    public static readonly Rgba32 Axis = new(90, 90, 90);

    /// <summary>Colour of grid lines.</summary>
    public static readonly Rgba32 Grid = new(232, 232, 232);

    /// <summary>Colour of titles and legend text.</summary>
    public static readonly Rgba32 Ink = new(20, 20, 20);

    private const int TickScale = 1;
    private const int TickLength = 5;
    private const int TargetTicks = 6;

    /// <summary>
    /// Draws about six round-valued ticks with grid lines across the frame, along the bottom
    /// (<paramref name="horizontal"/>) or the left edge, for values from low to high.
    /// </summary>
    /// <param name="canvas">The image.</param>
    /// <param name="low">Smallest value on the axis.</param>
    /// <param name="high">Largest value on the axis.</param>
    /// <param name="horizontal">True for the x axis.</param>
    /// <param name="toPixel">Maps a value to its pixel coordinate along the axis.</param>
    /// <param name="frame">The plot area.</param>
    public static void DrawTicks(Canvas canvas, double low, double high, bool horizontal,
        Func<double, double> toPixel, PlotFrame frame)
    {
        ArgumentNullException.ThrowIfNull(canvas);
        ArgumentNullException.ThrowIfNull(toPixel);
        double step = NiceStep((high - low) / TargetTicks);
        int glyphHeight = BitmapFont.GlyphHeight * TickScale;
        double first = Math.Ceiling(low / step);
        (int left, int top, int width, int height) = (frame.Left, frame.Top, frame.Width, frame.Height);
        for (int t = 0; t <= 2 * TargetTicks && (first + t) * step <= high; t++)
        {
            // Tick values as index times step (no drift from repeated adds); -0 printed as 0.
            double value = (first + t) * step + 0.0;
            string text = value.ToString("G4", CultureInfo.InvariantCulture);
            int p = (int)Math.Round(toPixel(value));
            int textWidth = BitmapFont.Measure(text, TickScale);
            if (horizontal)
            {
                canvas.FillRect(p, top + 1, 1, height - 2, Grid);
                canvas.FillRect(p, top + height, 1, TickLength, Axis);
                canvas.DrawText(text, p - textWidth / 2, top + height + TickLength + 3, TickScale, Axis);
            }
            else
            {
                canvas.FillRect(left + 1, p, width - 2, 1, Grid);
                canvas.FillRect(left - TickLength, p, TickLength, 1, Axis);
                canvas.DrawText(text, left - TickLength - 4 - textWidth, p - glyphHeight / 2, TickScale, Axis);
            }
        }
    }

    /// <summary>The smallest of 1, 2, 5 × 10^k that is at least <paramref name="rough"/>.</summary>
    public static double NiceStep(double rough)
    {
        if (!(rough > 0) || !double.IsFinite(rough))
        {
            return 1;
        }

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
}
