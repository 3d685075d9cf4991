using System.Globalization;
using System.Text;
using Mmae.Train.Output;
using Mmae.Train.Plots;
using SixLabors.ImageSharp.PixelFormats;

namespace Mmae.Train.Reports;

/// <summary>One latent dimension in a <see cref="LatentVariance"/> report.</summary>
/// <param name="Rank">1 for the dimension of largest variance, then 2, 3, ...</param>
/// <param name="Dimension">The dimension's index in the latent code, from 0.</param>
/// <param name="Variance">Its variance over the data set.</param>
/// <param name="CumulativeShare">The share of the total variance held by this dimension and
/// every one ranked above it, in [0, 1].</param>
public readonly record struct LatentDimensionVariance(
    int Rank,
    int Dimension,
    double Variance,
    double CumulativeShare);

/// <summary>
/// How the variance of the latent means μ spreads over the latent dimensions: per-dimension
/// variance over a data set, sorted in descending order, with cumulative shares. A VAE's
/// unused ("collapsed") dimensions show up as a tail of near-zero variances.
/// </summary>
/// <remarks>
/// Variances are population variances (divided by n, as <c>numpy.var</c> by default), computed
/// in two passes in double. Ties keep dimension order. When every variance is 0 the shares are
/// 0 and <see cref="DimensionsFor"/> returns 0.
/// </remarks>
public sealed class LatentVariance
{
    /// <summary>Width of the bar chart in pixels.</summary>
    public const int ChartWidth = 800;

    /// <summary>Height of the bar chart in pixels.</summary>
    public const int ChartHeight = 500;

    private LatentVariance(int samples, LatentDimensionVariance[] dimensions, double total)
    {
        SampleCount = samples;
        Dimensions = dimensions;
        Total = total;
    }

    /// <summary>Number of samples the variances were taken over.</summary>
    public int SampleCount { get; }

    /// <summary>Every latent dimension, by descending variance.</summary>
    public IReadOnlyList<LatentDimensionVariance> Dimensions { get; }

    /// <summary>Sum of the variances (the trace of μ's covariance).</summary>
    public double Total { get; }

    /// <summary>The largest variance.</summary>
    public double Largest => Dimensions[0].Variance;

    /// <summary>How many top-ranked dimensions hold 90% of the total variance.</summary>
    public int DimensionsFor90Percent => DimensionsFor(0.9);

    /// <summary>Variances of the columns of <paramref name="mu"/>.</summary>
    /// <param name="mu">n × m latent means, row-major.</param>
    /// <param name="n">Rows (samples), at least 1.</param>
    /// <param name="m">Columns (latent dimensions), at least 1.</param>
    /// <exception cref="ArgumentException">mu does not hold n·m values, a size is below 1, or
    /// a value is NaN or infinite.</exception>
    public static LatentVariance Compute(ReadOnlySpan<float> mu, int n, int m)
    {
        if (n < 1 || m < 1 || mu.Length != (long)n * m)
        {
            throw new ArgumentException(
                $"LatentVariance.Compute: expected n·m values with n, m >= 1, got {mu.Length} for "
                + $"n = {n}, m = {m}.", nameof(mu));
        }

        var mean = new double[m];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < m; j++)
            {
                float v = mu[i * m + j];
                if (!float.IsFinite(v))
                {
                    throw new ArgumentException(
                        $"LatentVariance.Compute: mu[{i}, {j}] is {v}; the encoder produced a "
                        + "non-finite code.", nameof(mu));
                }

                mean[j] += v;
            }
        }

        for (int j = 0; j < m; j++)
        {
            mean[j] /= n;
        }

        var variance = new double[m];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < m; j++)
            {
                double d = mu[i * m + j] - mean[j];
                variance[j] += d * d;
            }
        }

        int[] order = Enumerable.Range(0, m)
            .OrderByDescending(j => variance[j])
            .ThenBy(j => j)
            .ToArray();
        double total = variance.Sum() / n;
        var dimensions = new LatentDimensionVariance[m];
        double running = 0;
        for (int r = 0; r < m; r++)
        {
            double v = variance[order[r]] / n;
            running += v;
            double share = total > 0 ? Math.Min(running / total, 1.0) : 0.0;
            dimensions[r] = new LatentDimensionVariance(r + 1, order[r], v, share);
        }

        return new LatentVariance(n, dimensions, total);
    }

    /// <summary>The smallest number of top-ranked dimensions whose cumulative share reaches
    /// <paramref name="share"/>; 0 when the total variance is 0.</summary>
    /// <exception cref="ArgumentOutOfRangeException">share is outside (0, 1].</exception>
    public int DimensionsFor(double share)
    {
        if (!(share > 0 && share <= 1))
        {
            throw new ArgumentOutOfRangeException(
                nameof(share), share, "LatentVariance.DimensionsFor: expected a share in (0, 1].");
        }

        if (Total <= 0)
        {
            return 0;
        }

        // Relative slack so a share that rounding leaves at 0.8999999 still counts as 90%.
        int index = Dimensions.ToList().FindIndex(d => d.CumulativeShare >= share - 1e-12);
        return index < 0 ? Dimensions.Count : index + 1;
    }

    /// <summary>One line for logs: the largest variance and the 90% dimension count.</summary>
    public string Summary() => string.Create(
        CultureInfo.InvariantCulture,
        $"latent variance: largest {Largest:G4} (dimension {Dimensions[0].Dimension}), total "
        + $"{Total:G4}, 90% in {DimensionsFor90Percent} of {Dimensions.Count} dimensions");

    /// <summary>Writes the CSV <c>rank,dimension,variance,cumulative_share</c>, one row per
    /// dimension by descending variance, numbers in invariant culture, round-trip precision.
    /// </summary>
    /// <param name="path">Destination; written atomically, a missing folder is created.</param>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public void WriteCsv(string path)
    {
        var text = new StringBuilder("rank,dimension,variance,cumulative_share\n");
        foreach (LatentDimensionVariance d in Dimensions)
        {
            text.Append(
                CultureInfo.InvariantCulture,
                $"{d.Rank},{d.Dimension},{d.Variance:R},{d.CumulativeShare:R}\n");
        }

        byte[] bytes = Encoding.UTF8.GetBytes(text.ToString());
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }

    /// <summary>
    /// Saves a bar chart of the sorted variances as a <see cref="ChartWidth"/> ×
    /// <see cref="ChartHeight"/> PNG: one bar per rank, a y axis with ticks, axis labels, the
    /// title, a summary line, and a dashed marker after the last dimension of the 90% set.
    /// </summary>
    /// <param name="path">Destination; written atomically, a missing folder is created.</param>
    /// <param name="title">Drawn above the chart; cut with "..." when too wide.</param>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public void SaveBarChart(string path, string title)
    {
        ArgumentNullException.ThrowIfNull(title);
        var canvas = new Canvas(ChartWidth, ChartHeight, ReportStyle.Background);
        const int left = 84, right = 24, top = 70, bottom = 64;
        int plotWidth = ChartWidth - left - right;
        int plotHeight = ChartHeight - top - bottom;
        double yMax = Largest > 0 ? Largest * 1.05 : 1.0;
        int ToY(double v) => top + plotHeight - (int)Math.Round(v / yMax * plotHeight);

        // Horizontal grid lines and y ticks.
        double step = PlotAxes.NiceStep(yMax / 5);
        for (int t = 0; t * step <= yMax; t++)
        {
            int y = ToY(t * step);
            canvas.FillRect(left + 1, y, plotWidth - 2, 1, ReportStyle.Grid);
            canvas.FillRect(left - 5, y, 5, 1, ReportStyle.Axis);
            string label = (t * step).ToString("G4", CultureInfo.InvariantCulture);
            int width = BitmapFont.Measure(label, 1);
            int labelTop = y - BitmapFont.GlyphHeight / 2;
            canvas.DrawText(label, left - 9 - width, labelTop, 1, ReportStyle.Axis);
        }

        // Bars, with a one-pixel gap when there is room; x ticks at nice rank steps.
        int m = Dimensions.Count;
        double slot = (double)plotWidth / m;
        int rankStep = Math.Max(1, (int)PlotAxes.NiceStep(m / 10.0));
        for (int r = 0; r < m; r++)
        {
            int x0 = left + (int)Math.Round(r * slot);
            int x1 = left + (int)Math.Round((r + 1) * slot);
            int gap = x1 - x0 > 3 ? 1 : 0;
            int y = ToY(Dimensions[r].Variance);
            int barWidth = Math.Max(1, x1 - x0 - 2 * gap);
            canvas.FillRect(x0 + gap, y, barWidth, top + plotHeight - y, ReportStyle.Bar);
            if ((r + 1) % rankStep == 0 || r == 0)
            {
                string label = (r + 1).ToString(CultureInfo.InvariantCulture);
                int cx = (x0 + x1) / 2;
                canvas.FillRect(cx, top + plotHeight, 1, 5, ReportStyle.Axis);
                int labelLeft = cx - BitmapFont.Measure(label, 1) / 2;
                canvas.DrawText(label, labelLeft, top + plotHeight + 8, 1, ReportStyle.Axis);
            }
        }

        // The 90% marker: a dashed line after the last bar of the 90% set.
        int k = DimensionsFor90Percent;
        if (k > 0 && k < m)
        {
            int x = left + (int)Math.Round(k * slot);
            for (int y = top; y < top + plotHeight; y += 8)
            {
                canvas.FillRect(x, y, 1, 4, ReportStyle.Marker);
            }

            canvas.DrawText("90%", x + 4, top + 4, 1, ReportStyle.Marker);
        }

        canvas.StrokeRect(left, top, plotWidth, plotHeight, ReportStyle.Axis);
        ReportStyle.DrawCentred(canvas, title, 12, 2);
        ReportStyle.DrawCentred(canvas, Summary(), 38, 1);
        canvas.DrawText("variance of mu", 8, top - 14, 1, ReportStyle.Ink);
        string xLabel = "latent dimension, ranked by variance";
        int xLabelLeft = left + (plotWidth - BitmapFont.Measure(xLabel, 1)) / 2;
        canvas.DrawText(xLabel, xLabelLeft, ChartHeight - 24, 1, ReportStyle.Ink);
        AtomicFile.Write(path, canvas.SavePng);
    }
}

/// <summary>Colours and title drawing shared by the report images.</summary>
internal static class ReportStyle
{
    public static readonly Rgba32 Background = new(255, 255, 255);
    public static readonly Rgba32 Ink = new(20, 20, 20);
    public static readonly Rgba32 Axis = new(90, 90, 90);
    public static readonly Rgba32 Grid = new(232, 232, 232);
    public static readonly Rgba32 Bar = new(31, 119, 180);
    public static readonly Rgba32 Marker = new(214, 39, 40);

    /// <summary>Draws one line of text centred on the canvas at height y, cut with "..." when
    /// it does not fit; line breaks become spaces.</summary>
    public static void DrawCentred(Canvas canvas, string text, int y, int scale)
    {
        int maxChars = Math.Max(4, (canvas.Width - 16) / (BitmapFont.Advance * scale));
        string line = text.ReplaceLineEndings(" ");
        if (line.Length > maxChars)
        {
            line = line[..(maxChars - 3)] + "...";
        }

        canvas.DrawText(line, (canvas.Width - BitmapFont.Measure(line, scale)) / 2, y, scale, Ink);
    }
}
