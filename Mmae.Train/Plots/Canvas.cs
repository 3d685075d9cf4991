using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace Mmae.Train.Plots;

/// <summary>An RGBA pixel buffer with the few drawing primitives plots need; everything is
/// clipped to the image, so callers may draw partly outside it.</summary>
internal sealed class Canvas
{
    private readonly Rgba32[] _pixels;

    /// <summary>Creates a canvas filled with <paramref name="background"/>.</summary>
    public Canvas(int width, int height, Rgba32 background)
    {
        Width = width;
        Height = height;
        _pixels = new Rgba32[width * height];
        Array.Fill(_pixels, background);
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>Sets one pixel if it lies on the canvas.</summary>
    public void Set(int x, int y, Rgba32 color)
    {
        if ((uint)x < (uint)Width && (uint)y < (uint)Height)
        {
            _pixels[y * Width + x] = color;
        }
    }

    /// <summary>Fills the rectangle with top-left (x, y) and the given size.</summary>
    public void FillRect(int x, int y, int width, int height, Rgba32 color)
    {
        int x0 = Math.Max(0, x);
        int y0 = Math.Max(0, y);
        int x1 = Math.Min(Width, x + width);
        int y1 = Math.Min(Height, y + height);
        for (int py = y0; py < y1; py++)
        {
            _pixels.AsSpan(py * Width + x0, Math.Max(0, x1 - x0)).Fill(color);
        }
    }

    /// <summary>Outlines the rectangle with a one-pixel line.</summary>
    public void StrokeRect(int x, int y, int width, int height, Rgba32 color)
    {
        FillRect(x, y, width, 1, color);
        FillRect(x, y + height - 1, width, 1, color);
        FillRect(x, y, 1, height, color);
        FillRect(x + width - 1, y, 1, height, color);
    }

    /// <summary>Fills the pixels whose centres lie within <paramref name="radius"/> of
    /// (cx, cy).</summary>
    public void FillDisc(double cx, double cy, double radius, Rgba32 color)
    {
        int x0 = (int)Math.Floor(cx - radius);
        int x1 = (int)Math.Ceiling(cx + radius);
        int y0 = (int)Math.Floor(cy - radius);
        int y1 = (int)Math.Ceiling(cy + radius);
        double r2 = radius * radius;
        for (int py = y0; py <= y1; py++)
        {
            for (int px = x0; px <= x1; px++)
            {
                double dx = px + 0.5 - cx;
                double dy = py + 0.5 - cy;
                if (dx * dx + dy * dy <= r2)
                {
                    Set(px, py, color);
                }
            }
        }
    }

    /// <summary>Draws <paramref name="text"/> with its top-left corner at (x, y).</summary>
    public void DrawText(string text, int x, int y, int scale, Rgba32 color)
    {
        BitmapFont.Render(text, x, y, scale, (px, py) => Set(px, py, color));
    }

    /// <summary>Encodes the canvas as PNG into <paramref name="stream"/>.</summary>
    public void SavePng(Stream stream)
    {
        using Image<Rgba32> image = Image.LoadPixelData<Rgba32>(_pixels, Width, Height);
        image.Save(stream, new PngEncoder());
    }
}
