using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Mmae.Kernels.Cpu;

/// <summary>A matrix whose entries are computed as the GEMM packs them instead of stored.</summary>
internal interface IRowSource<T>
{
    /// <summary>dst[r·ld + j] = M[row0 + r, start + j] for r &lt; rows, j &lt; count.</summary>
    void PackRows(int row0, int rows, int start, int count, Span<T> dst, int ld);

    /// <summary>dst[j·ld + r] = M[row0 + r, start + j] for r &lt; rows, j &lt; count: the
    /// transposed block.</summary>
    void PackColumns(int row0, int rows, int start, int count, Span<T> dst, int ld);
}

// The column matrix of ConvGeometry (K × L) read straight from the image: the GEMM gathers the
// window values while it packs its panels, so the matrix, tens of MB for the dSprites layers,
// is never written to memory and read back. The values are those Im2Col writes, so a product
// with this source equals Im2Col followed by Gemm bit for bit. Both methods are called from
// several threads at once and keep no state.
internal sealed class ColumnMatrix(float[] image, ConvGeometry g) : IRowSource<float>
{
    // The most column runs a block of `count` columns can split into along output lines.
    private static int MaxRuns(int count) => count + 2;

    public void PackRows(int row0, int rows, int start, int count, Span<float> dst, int ld)
    {
        Span<Run> runs = stackalloc Run[MaxRuns(count)];
        runs = runs[..SplitRuns(start, count, runs)];
        for (int r = 0; r < rows; r++)
        {
            GatherRow(row0 + r, runs, dst.Slice(r * ld, count));
        }
    }

    public void PackColumns(int row0, int rows, int start, int count, Span<float> dst, int ld)
    {
        Span<Run> runs = stackalloc Run[MaxRuns(count)];
        runs = runs[..SplitRuns(start, count, runs)];
        Span<float> line = count <= 1024 ? stackalloc float[count] : new float[count];
        for (int r = 0; r < rows; r++)
        {
            GatherRow(row0 + r, runs, line);
            for (int j = 0; j < count; j++)
            {
                dst[j * ld + r] = line[j];
            }
        }
    }

    // Columns start .. start + count − 1 cut where the output line (sample, oy) changes.
    private int SplitRuns(int start, int count, Span<Run> runs)
    {
        Debug.Assert(start >= 0 && start + count <= g.ColumnCols);
        int outWidth = g.OutWidth;
        int sample = start / g.OutPlane, q = start % g.OutPlane;
        int oy = q / outWidth, ox = q % outWidth;
        int n = 0;
        for (int pos = 0; pos < count;)
        {
            int len = Math.Min(count - pos, outWidth - ox);
            runs[n++] = new Run(pos, len, sample, oy, ox);
            pos += len;
            ox += len;
            if (ox == outWidth)
            {
                ox = 0;
                if (++oy == g.OutHeight)
                {
                    oy = 0;
                    sample++;
                }
            }
        }

        return n;
    }

    // dst[pos .. pos + len) of every run = row `row` of the column matrix there.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void GatherRow(int row, ReadOnlySpan<Run> runs, Span<float> dst)
    {
        int k = g.Kernel, s = g.Stride, p = g.Padding;
        int c = row / (k * k), ky = row / k % k, kx = row % k;
        (int inside0, int inside1) = CpuBackend.InsideRange(g.OutWidth, g.Width, s, p, kx);
        foreach (Run run in runs)
        {
            Span<float> d = dst.Slice(run.Pos, run.Length);
            int iy = run.Oy * s - p + ky;
            int a = Math.Max(run.Ox, inside0), b = Math.Min(run.Ox + run.Length, inside1);
            if ((uint)iy >= (uint)g.Height || a >= b)
            {
                d.Clear();
                continue;
            }

            // The padding cuts at most a few positions off either end of a run.
            for (int j = 0; j < a - run.Ox; j++)
            {
                d[j] = 0f;
            }

            for (int j = b - run.Ox; j < d.Length; j++)
            {
                d[j] = 0f;
            }

            ReadOnlySpan<float> line = image.AsSpan(((run.Sample * g.Channels + c) * g.Height + iy) * g.Width, g.Width);
            int ix = a * s - p + kx;
            if (s == 1)
            {
                line.Slice(ix, b - a).CopyTo(d[(a - run.Ox)..(b - run.Ox)]);
            }
            else
            {
                CpuBackend.StridedCopy(line, ix, s, d, a - run.Ox, b - run.Ox);
            }
        }
    }

    // Columns Pos .. Pos + Length − 1 of a block: window positions Ox .. on line Oy of Sample.
    private readonly record struct Run(int Pos, int Length, int Sample, int Oy, int Ox);
}
