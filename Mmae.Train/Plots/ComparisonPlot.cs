using Mmae.Train.Output;
using SixLabors.ImageSharp.PixelFormats;

namespace Mmae.Train.Plots;

/// <summary>One model at one setting: the mean of two figures over seeds, with their spread.</summary>
/// <param name="Model">Model name; each model gets its own colour.</param>
/// <param name="Label">Short text drawn beside the marker, for example the λ.</param>
/// <param name="X">Mean of the x figure.</param>
/// <param name="XSpread">Its standard deviation over seeds (0 for one seed).</param>
/// <param name="Y">Mean of the y figure.</param>
/// <param name="YSpread">Its standard deviation over seeds.</param>
public sealed record ComparisonPoint(string Model, string Label, double X, double XSpread, double Y, double YSpread);

/// <summary>
/// The comparison chart of a sweep: one marker per model and setting at the mean over seeds,
/// with ±1 standard-deviation bars in both directions, a colour per model and a legend.
/// </summary>
public static class ComparisonPlot
{
    private const int Width = 900;
    private const int Height = 700;
    private const int Left = 80;
    private const int Top = 48;
    private const int Right = 190;
    private const int Bottom = 56;
    private static readonly int[] s_palette =
        [0x1f77b4, 0xd62728, 0x2ca02c, 0xff7f0e, 0x9467bd, 0x8c564b, 0xe377c2, 0x17becf];

    /// <summary>Draws the chart and writes it as a PNG (atomically).</summary>
    /// <param name="path">Destination file.</param>
    /// <param name="points">The markers; ones with a non-finite mean are left out.</param>
    /// <param name="title">Text above the chart.</param>
    /// <param name="xLabel">Name of the x figure.</param>
    /// <param name="yLabel">Name of the y figure.</param>
    public static void Save(string path, IReadOnlyList<ComparisonPoint> points, string title, string xLabel,
        string yLabel)
    {
        ArgumentNullException.ThrowIfNull(points);
        var shown = points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToList();
        var canvas = new Canvas(Width, Height, new Rgba32(255, 255, 255));
        var frame = new PlotFrame(Left, Top, Width - Left - Right, Height - Top - Bottom);
        (double x0, double x1) = Range(shown.SelectMany(p => Ends(p.X, p.XSpread)));
        (double y0, double y1) = Range(shown.SelectMany(p => Ends(p.Y, p.YSpread)));
        double Px(double v) => frame.Left + (v - x0) / (x1 - x0) * frame.Width;
        double Py(double v) => frame.Top + frame.Height - (v - y0) / (y1 - y0) * frame.Height;
        PlotAxes.DrawTicks(canvas, x0, x1, horizontal: true, Px, frame);
        PlotAxes.DrawTicks(canvas, y0, y1, horizontal: false, Py, frame);

        string[] models = points.Select(p => p.Model).Distinct().ToArray();
        Rgba32 ColorOf(string model)
        {
            int rgb = s_palette[Array.IndexOf(models, model) % s_palette.Length];
            return new Rgba32((byte)(rgb >> 16), (byte)(rgb >> 8), (byte)rgb);
        }

        foreach (ComparisonPoint p in shown)
        {
            Rgba32 c = ColorOf(p.Model);
            int cx = (int)Math.Round(Px(p.X)), cy = (int)Math.Round(Py(p.Y));
            int xa = (int)Math.Round(Px(p.X - Spread(p.XSpread))), xb = (int)Math.Round(Px(p.X + Spread(p.XSpread)));
            int ya = (int)Math.Round(Py(p.Y + Spread(p.YSpread))), yb = (int)Math.Round(Py(p.Y - Spread(p.YSpread)));
            canvas.FillRect(xa, cy, Math.Max(1, xb - xa + 1), 1, c);
            canvas.FillRect(cx, ya, 1, Math.Max(1, yb - ya + 1), c);
            canvas.FillDisc(cx, cy, 4.5, c);
            canvas.DrawText(p.Label, cx + 7, cy - 12, 1, c);
        }

        canvas.StrokeRect(frame.Left, frame.Top, frame.Width, frame.Height, PlotAxes.Axis);
        canvas.DrawText(Fit(title, Width - 20, 2), 10, 12, 2, PlotAxes.Ink);
        canvas.DrawText(xLabel, frame.Left + (frame.Width - BitmapFont.Measure(xLabel, 2)) / 2,
            Height - 26, 2, PlotAxes.Ink);
        canvas.DrawText(yLabel, 8, Top - 18, 1, PlotAxes.Ink);
        int ly = frame.Top;
        int lx = frame.Left + frame.Width + 16;
        foreach (string model in models)
        {
            canvas.FillDisc(lx + 5, ly + 7, 5, ColorOf(model));
            canvas.DrawText(Fit(model, Right - 40, 2), lx + 16, ly, 2, PlotAxes.Ink);
            ly += 24;
        }

        canvas.DrawText("bars: +-1 s.d.", lx, ly + 8, 1, PlotAxes.Axis);
        canvas.DrawText("over seeds", lx, ly + 20, 1, PlotAxes.Axis);
        AtomicFile.Write(path, canvas.SavePng);
    }

    private static double Spread(double s) => double.IsFinite(s) ? s : 0;

    private static double[] Ends(double mean, double spread) => [mean - Spread(spread), mean + Spread(spread)];

    private static (double Low, double High) Range(IEnumerable<double> values)
    {
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        foreach (double v in values.Where(double.IsFinite))
        {
            lo = Math.Min(lo, v);
            hi = Math.Max(hi, v);
        }

        if (lo > hi)
        {
            return (0, 1);
        }

        double pad = Math.Max(0.06 * (hi - lo), 1e-6 * Math.Max(1, Math.Abs(hi)));
        return (lo - pad, hi + pad);
    }

    private static string Fit(string text, int pixels, int scale)
    {
        int max = pixels / (BitmapFont.Advance * scale);
        return text.Length <= max ? text : text[..Math.Max(0, max - 3)] + "...";
    }
}
