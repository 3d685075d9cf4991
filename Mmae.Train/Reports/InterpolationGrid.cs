using System.Globalization;
using Mmae.Train.Data;
using Mmae.Train.Output;
using Mmae.Train.Plots;
using SixLabors.ImageSharp.PixelFormats;

namespace Mmae.Train.Reports;

/// <summary>
/// Draws decoded images as one labelled PNG grid: a row per chosen image (or per attribute),
/// a column per interpolation weight α, with row labels on the left, α above each column and a
/// title on top. Grey (1 channel) or RGB (3 channels).
/// </summary>
/// <remarks>
/// Each image is enlarged by a whole factor, <see cref="Zoom"/>, so a 28 × 28 digit is drawn
/// 84 pixels wide; pixels outside the range are clipped. Row labels longer than
/// <see cref="MaxLabelChars"/> characters are cut with "...".
/// </remarks>
public static class InterpolationGrid
{
    /// <summary>Longest row label drawn in full.</summary>
    public const int MaxLabelChars = 16;

    private const int Gap = 4;
    private const int Margin = 10;
    private const int TitleHeight = 32;
    private const int HeaderHeight = 20;

    /// <summary>The enlargement factor for images of the given size: the largest whole number
    /// that keeps the longer side at most 96 pixels, and at least 1.</summary>
    public static int Zoom(int height, int width) => Math.Max(1, 96 / Math.Max(height, width));

    /// <summary>The size of the PNG that <see cref="Save"/> writes for these dimensions.</summary>
    public static (int Width, int Height) Measure(int rows, int columns, int height, int width)
    {
        int zoom = Zoom(height, width);
        int labelWidth = BitmapFont.Measure(new string('M', MaxLabelChars), 1);
        int gridWidth = columns * (width * zoom + Gap) - Gap;
        int gridHeight = rows * (height * zoom + Gap) - Gap;
        return (
            Margin + labelWidth + Gap + gridWidth + Margin,
            TitleHeight + HeaderHeight + gridHeight + Margin);
    }

    /// <summary>Saves the grid as a PNG.</summary>
    /// <param name="path">Destination; written atomically, a missing folder is created.</param>
    /// <param name="images">rows × columns images, each channels × height × width, row-major
    /// (image (r, c) starts at ((r·columns + c)·channels·height·width)).</param>
    /// <param name="channels">1 (grey) or 3 (RGB, planar as a decoder writes it).</param>
    /// <param name="height">Image height.</param>
    /// <param name="width">Image width.</param>
    /// <param name="alphas">One interpolation weight per column, printed above it.</param>
    /// <param name="rowLabels">One label per row.</param>
    /// <param name="title">Drawn on top; cut with "..." when too wide.</param>
    /// <param name="range">The pixel value range.</param>
    /// <exception cref="ArgumentException">channels is not 1 or 3, a size is below 1, or
    /// images does not hold rowLabels.Length × alphas.Length images of that size.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static void Save(
        string path,
        ReadOnlySpan<float> images,
        int channels,
        int height,
        int width,
        IReadOnlyList<double> alphas,
        IReadOnlyList<string> rowLabels,
        string title,
        PixelRange range)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(alphas);
        ArgumentNullException.ThrowIfNull(rowLabels);
        ArgumentNullException.ThrowIfNull(title);
        int rows = rowLabels.Count, columns = alphas.Count;
        long expected = (long)rows * columns * channels * height * width;
        if (channels is not (1 or 3) || height < 1 || width < 1 || rows < 1 || columns < 1
            || images.Length != expected)
        {
            throw new ArgumentException(
                $"InterpolationGrid.Save: expected {rows} rows × {columns} alphas of "
                + $"{channels}×{height}×{width} images ({expected} values, channels 1 or 3), "
                + $"got {images.Length} values.",
                nameof(images));
        }

        (int imageWidth, int imageHeight) = Measure(rows, columns, height, width);
        var canvas = new Canvas(imageWidth, imageHeight, ReportStyle.Background);
        int zoom = Zoom(height, width);
        int labelWidth = BitmapFont.Measure(new string('M', MaxLabelChars), 1);
        int gridLeft = Margin + labelWidth + Gap;
        int gridTop = TitleHeight + HeaderHeight;
        int cellWidth = width * zoom + Gap, cellHeight = height * zoom + Gap;
        int plane = height * width;

        ReportStyle.DrawCentred(canvas, title, 10, 2);
        canvas.DrawText("alpha", Margin, gridTop - 14, 1, ReportStyle.Axis);
        for (int c = 0; c < columns; c++)
        {
            string label = alphas[c].ToString("G3", CultureInfo.InvariantCulture);
            int x = gridLeft + c * cellWidth + (width * zoom - BitmapFont.Measure(label, 1)) / 2;
            canvas.DrawText(label, x, gridTop - 14, 1, ReportStyle.Ink);
        }

        for (int r = 0; r < rows; r++)
        {
            int top = gridTop + r * cellHeight;
            string label = rowLabels[r].Length > MaxLabelChars
                ? rowLabels[r][..(MaxLabelChars - 3)] + "..."
                : rowLabels[r];
            int labelTop = top + (height * zoom - BitmapFont.GlyphHeight) / 2;
            canvas.DrawText(label, Margin, labelTop, 1, ReportStyle.Ink);
            for (int c = 0; c < columns; c++)
            {
                int offset = (r * columns + c) * channels * plane;
                int left = gridLeft + c * cellWidth;
                for (int y = 0; y < height; y++)
                {
                    for (int x = 0; x < width; x++)
                    {
                        int p = offset + y * width + x;
                        byte red = ToByte(images[p], range);
                        Rgba32 colour = channels == 1
                            ? new Rgba32(red, red, red)
                            : new Rgba32(
                                red,
                                ToByte(images[p + plane], range),
                                ToByte(images[p + 2 * plane], range));
                        canvas.FillRect(left + x * zoom, top + y * zoom, zoom, zoom, colour);
                    }
                }
            }
        }

        AtomicFile.Write(path, canvas.SavePng);
    }

    /// <summary>The 8-bit intensity of a pixel value: round(255·v') with v' the value mapped to
    /// [0, 1] and clipped there; NaN is drawn black.</summary>
    public static byte ToByte(float value, PixelRange range)
    {
        double unit = range == PixelRange.MinusOneToOne ? (value + 1.0) / 2.0 : value;
        return double.IsNaN(unit) ? (byte)0 : (byte)Math.Round(255 * Math.Clamp(unit, 0.0, 1.0));
    }
}
