using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
internal sealed unsafe class ColumnMatrix(float[] image, ConvGeometry g) : IRowSource<float>
{
    // Rows gathered together before the transposed store: one 8×8 block transpose per step.
    private const int Group = 8;

    public void PackRows(int row0, int rows, int start, int count, Span<float> dst, int ld)
    {
        Debug.Assert(rows == 0 || (rows - 1) * ld + count <= dst.Length);
        Span<Run> runs = stackalloc Run[count + 2];
        runs = runs[..SplitRuns(start, count, runs)];
        fixed (float* img = image, pd = dst)
        {
            for (int r = 0; r < rows; r++)
            {
                GatherRow(img, row0 + r, runs, pd + r * ld);
            }
        }
    }

    public void PackColumns(int row0, int rows, int start, int count, Span<float> dst, int ld)
    {
        Debug.Assert(rows <= ld && (count - 1) * ld + rows <= dst.Length);
        Span<Run> runs = stackalloc Run[count + 2];
        runs = runs[..SplitRuns(start, count, runs)];
        float[]? rented = count > 512 ? new float[Group * count] : null;
        Span<float> block = rented ?? stackalloc float[Group * count];
        fixed (float* img = image, pd = dst, pb = block)
        {
            for (int r0 = 0; r0 < rows; r0 += Group)
            {
                int group = Math.Min(Group, rows - r0);
                for (int r = 0; r < group; r++)
                {
                    GatherRow(img, row0 + r0 + r, runs, pb + r * count);
                }

                int j = 0;
                if (group == Group && Avx.IsSupported)
                {
                    for (; j + Group <= count; j += Group)
                    {
                        Transpose.Block8(pb + j, count, pd + j * ld + r0, ld);
                    }
                }

                for (; j < count; j++)
                {
                    for (int r = 0; r < group; r++)
                    {
                        pd[j * ld + r0 + r] = pb[r * count + j];
                    }
                }
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
            runs[n++] = new Run(pos, len, sample * g.Channels * g.InPlane, oy * g.Stride - g.Padding, ox);
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

    // Row `row` of the column matrix at the columns of `runs`, into dst[run.Pos ..].
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void GatherRow(float* img, int row, ReadOnlySpan<Run> runs, float* dst)
    {
        int k = g.Kernel, s = g.Stride, p = g.Padding, width = g.Width;
        int c = row / (k * k), ky = row / k % k, kx = row % k;
        (int inside0, int inside1) = CpuBackend.InsideRange(g.OutWidth, width, s, p, kx);
        float* channel = img + c * g.InPlane;
        foreach (ref readonly Run run in runs)
        {
            float* d = dst + run.Pos;
            int len = run.Length, iy = run.Top + ky;
            int a = Math.Max(run.Ox, inside0) - run.Ox, b = Math.Min(run.Ox + len, inside1) - run.Ox;
            if ((uint)iy >= (uint)g.Height || a >= b)
            {
                a = b = len;
            }

            // The padding cuts a few positions off either end of a run (or all of it).
            for (int j = 0; j < a; j++)
            {
                d[j] = 0f;
            }

            for (int j = b; j < len; j++)
            {
                d[j] = 0f;
            }

            if (a < b)
            {
                float* line = channel + run.Plane + iy * width;
                int ix = (run.Ox + a) * s - p + kx;
                Copy(line, width, ix, s, d + a, b - a);
            }
        }
    }

    // d[j] = line[ix + j·s] for j < count. Stride 2 takes eight values from 16 loaded ones
    // (the even lanes, or the odd lanes of the 16 one earlier where 16 would pass the line's
    // end; a last partial step redoes the final eight), stride 1 copies vectors.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Copy(float* line, int width, int ix, int s, float* d, int count)
    {
        if (s == 2 && Avx2.IsSupported && count >= 8 && width >= 16)
        {
            for (int j = 0; j < count; j += 8)
            {
                int jj = Math.Min(j, count - 8);
                int at = ix + 2 * jj;
                Vector256<float> v = at + 16 <= width
                    ? Avx.Shuffle(Avx.LoadVector256(line + at), Avx.LoadVector256(line + at + 8), 0b10_00_10_00)
                    : Avx.Shuffle(Avx.LoadVector256(line + at - 1), Avx.LoadVector256(line + at + 7), 0b11_01_11_01);
                Avx.Store(d + jj, Avx2.Permute4x64(v.AsDouble(), 0b11_01_10_00).AsSingle());
            }

            return;
        }

        if (s == 1)
        {
            int j = 0;
            for (; j + 8 <= count; j += 8)
            {
                Vector256.Store(Vector256.Load(line + ix + j), d + j);
            }

            for (; j < count; j++)
            {
                d[j] = line[ix + j];
            }

            return;
        }

        for (int j = 0; j < count; j++)
        {
            d[j] = line[ix + j * s];
        }
    }

    // Columns Pos .. Pos + Length − 1 of a block: window positions Ox .. of one output line,
    // whose sample starts at Plane in the image and whose windows start at input row Top.
    private readonly record struct Run(int Pos, int Length, int Plane, int Top, int Ox);
}
