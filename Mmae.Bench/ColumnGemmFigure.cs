using System.Diagnostics;
using System.Globalization;
using Mmae.Kernels;
using Mmae.Kernels.Cpu;

namespace Mmae.Bench;

/// <summary>
/// The convolution products of the dSprites encoder at one batch size, two ways: the column
/// matrix written by Im2Col and then multiplied, against the implicit product that gathers it
/// while packing (<see cref="IColumnGemm"/>); and the input gradient through the whole column
/// matrix against a few samples at a time. Rounds alternate, so drift hits both alike.
/// </summary>
public static class ColumnGemmFigure
{
    public static void Run(int batch, int threads)
    {
        var be = new CpuBackend(threads);
        var rng = new Random(1);
        DeviceBuffer Random(int length) =>
            be.Upload(Enumerable.Range(0, length).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray());

        // (input channels, side, output channels) of the four 4×4 stride-2 convolutions.
        foreach ((int c, int side, int o) in new[] { (1, 64, 32), (32, 32, 64), (64, 16, 128), (128, 8, 256) })
        {
            var g = new ConvGeometry(batch, c, side, side, 4, 2, 1, side / 2, side / 2);
            int kk = g.ColumnRows, l = g.ColumnCols;
            DeviceBuffer x = Random(g.InputLength), w = Random(o * kk), dy = Random(o * l);
            DeviceBuffer cols = be.Allocate(kk * l), y = be.Allocate(o * l), dw = be.Allocate(o * kk);
            DeviceBuffer dyT = be.Allocate(o * l), dx = be.Allocate(g.InputLength);
            var times = new List<double>[6];
            for (int i = 0; i < 6; i++)
            {
                times[i] = [];
            }

            Action[] ways =
            [
                () =>
                {
                    be.Im2Col(x, g, cols);
                    be.Gemm(false, false, o, l, kk, 1f, w, cols, 0f, y);
                },
                () => be.GemmColumns(false, o, l, kk, 1f, w, x, g, 0f, y),
                () =>
                {
                    be.Im2Col(x, g, cols);
                    be.Gemm(false, true, o, kk, l, 1f, dy, cols, 0f, dw);
                },
                () => be.GemmColumns(true, o, kk, l, 1f, dy, x, g, 0f, dw),
                () =>
                {
                    be.SwapLeadingAxes(dy, batch, o, g.OutPlane, dyT);
                    be.Gemm(true, false, kk, l, o, 1f, w, dyT, 0f, cols);
                    be.Col2Im(cols, g, dx);
                },
                () => be.GemmCol2Im(w, o, dy, g, dx),
            ];
            for (int round = 0; round < 25; round++)
            {
                for (int i = 0; i < 6; i++)
                {
                    var sw = Stopwatch.StartNew();
                    ways[i]();
                    times[i].Add(sw.Elapsed.TotalMilliseconds);
                }
            }

            double Median(List<double> t) => t.Order().ElementAt(t.Count / 2);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"conv {c,3}→{o,3} at {side,2}²: y = w·cols {Median(times[0]),6:F2} ms stored, "
                + $"{Median(times[1]),6:F2} ms implicit; dw = dy·colsᵀ {Median(times[2]),6:F2} ms stored, "
                + $"{Median(times[3]),6:F2} ms implicit; dx = col2im(wᵀ·dy) {Median(times[4]),6:F2} ms stored, "
                + $"{Median(times[5]),6:F2} ms in slices"));
        }
    }
}
