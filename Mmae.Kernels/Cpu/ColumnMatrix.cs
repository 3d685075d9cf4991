using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Mmae.Kernels.Cpu;

/// <summary>A matrix whose entries are computed as the GEMM packs them instead of stored.</summary>
internal interface IRowSource<T>
{
    /// <summary>
    /// Rows row0 .. row0 + rows − 1, columns start .. start + count − 1 into panels of
    /// <paramref name="width"/> columns: M[row0 + r, start + j] goes to panel j / width, each
    /// panel rows × width row-major, at dst[(j / width)·width·rows + r·width + j mod width].
    /// Columns of the last panel past count are left as they are.
    /// </summary>
    void PackRows(int row0, int rows, int start, int count, Span<T> dst, int width);

    /// <summary>dst[j·ld + r] = M[row0 + r, start + j] for r &lt; rows, j &lt; count: the
    /// transposed block.</summary>
    void PackColumns(int row0, int rows, int start, int count, Span<T> dst, int ld);
}

// The column matrix of ConvGeometry (K × L) read straight from the image: the GEMM gathers the
// window values while it packs its panels, so the matrix, tens of MB for the dSprites layers,
// is never written to memory and read back. The image is first rearranged (one pass, about
// its own size) into zero-padded phase planes: for stride s, plane (py, px) of channel c holds
// padded pixels (i·s + py, j·s + px). Column-matrix row (c, ky, kx) at window (oy, ox) is then
// phase (ky mod s, kx mod s) at (oy + ky/s, ox + kx/s), so a line of windows is one contiguous
// run of a phase plane: no bounds, no padding tests, no strided loads while packing. The values
// are those Im2Col writes, so a product with this source equals Im2Col followed by Gemm bit for
// bit. Both methods are called from several threads at once and keep no state.
internal sealed unsafe class ColumnMatrix : IRowSource<float>
{
    // Rows gathered together before the transposed store: one 8×8 block transpose per step.
    private const int Group = 8;

    private readonly float[] _phases;
    private readonly ConvGeometry _g;
    private readonly int _side; // values per image plane: s² phase planes of _rowsQ × _colsQ
    private readonly int _rowsQ;
    private readonly int _colsQ;

    // Per (ky, kx): the phase plane (ky mod s, kx mod s) and the shift (ky/s, kx/s) within it.
    private readonly int[] _windowOffsets;

    /// <summary>Rearranges <paramref name="image"/> into <paramref name="phases"/> (at least
    /// <see cref="PhaseLength"/> values), spread over <paramref name="threads"/>.</summary>
    public ColumnMatrix(float[] image, ConvGeometry g, float[] phases, int threads)
    {
        _g = g;
        _phases = phases;
        (_rowsQ, _colsQ) = PhaseSides(g);
        _side = g.Stride * g.Stride * _rowsQ * _colsQ;
        int s = g.Stride;
        _windowOffsets = new int[g.Kernel * g.Kernel];
        for (int ky = 0; ky < g.Kernel; ky++)
        {
            for (int kx = 0; kx < g.Kernel; kx++)
            {
                _windowOffsets[ky * g.Kernel + kx] =
                    ((ky % s) * s + kx % s) * _rowsQ * _colsQ + (ky / s) * _colsQ + kx / s;
            }
        }

        Debug.Assert(phases.Length >= PhaseLength(g));
        int planes = g.Batch * g.Channels;
        Parallelism.ForChunks(planes, Math.Max(1, (1 << 13) / Math.Max(1, _side)), threads, (p0, p1) =>
        {
            for (int plane = p0; plane < p1; plane++)
            {
                FillPhases(image.AsSpan(plane * g.InPlane, g.InPlane), phases.AsSpan(plane * _side, _side));
            }
        });
    }

    /// <summary>Values the phase planes of <paramref name="g"/> take.</summary>
    public static int PhaseLength(ConvGeometry g)
    {
        (int rows, int cols) = PhaseSides(g);
        return g.Batch * g.Channels * g.Stride * g.Stride * rows * cols;
    }

    public void PackRows(int row0, int rows, int start, int count, Span<float> dst, int width)
    {
        Span<int> runs = stackalloc int[2 * (count + 2)];
        int pairs = SplitRuns(start, count, runs);
        Span<int> moves = stackalloc int[3 * (pairs + count / width + 2)];
        moves = moves[..(3 * Moves.Split(runs[..(2 * pairs)], width, rows, moves))];
        Debug.Assert(rows * width * ((count + width - 1) / width) <= dst.Length);
        fixed (float* ph = _phases, pd = dst)
        {
            var row = new RowCursor(_g, row0);
            for (int r = 0; r < rows; r++, row.Next())
            {
                Moves.Gather(ph + RowOffset(row), moves, pd + r * width);
            }
        }
    }

    public void PackColumns(int row0, int rows, int start, int count, Span<float> dst, int ld)
    {
        Debug.Assert(rows <= ld && (count - 1) * ld + rows <= dst.Length);
        Span<int> runs = stackalloc int[2 * (count + 2)];
        int pairs = SplitRuns(start, count, runs);
        Span<int> moves = stackalloc int[3 * (pairs + 2)];
        moves = moves[..(3 * Moves.Split(runs[..(2 * pairs)], count, 1, moves))];
        // The GEMM asks for at most one k-slice (256 columns); a longer call uses the heap.
        Span<float> block = count > 512 ? new float[Group * count] : stackalloc float[Group * count];
        fixed (float* ph = _phases, pd = dst, pb = block)
        {
            var row = new RowCursor(_g, row0);
            for (int r0 = 0; r0 < rows; r0 += Group)
            {
                int group = Math.Min(Group, rows - r0);
                for (int r = 0; r < group; r++, row.Next())
                {
                    Moves.Gather(ph + RowOffset(row), moves, pb + r * count);
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

    // Phase plane sides: the padded image's rows and columns divided by the stride, rounded up.
    private static (int Rows, int Cols) PhaseSides(ConvGeometry g) =>
        ((g.Height + 2 * g.Padding + g.Stride - 1) / g.Stride, (g.Width + 2 * g.Padding + g.Stride - 1) / g.Stride);

    // The phase planes of one image plane: phase (py, px) at (i, j) = padded pixel
    // (i·s + py, j·s + px), zero in the padding and past the padded image.
    private void FillPhases(ReadOnlySpan<float> plane, Span<float> dst)
    {
        int s = _g.Stride, p = _g.Padding, width = _g.Width;
        for (int py = 0; py < s; py++)
        {
            for (int px = 0; px < s; px++)
            {
                Span<float> phase = dst.Slice((py * s + px) * _rowsQ * _colsQ, _rowsQ * _colsQ);

                // Columns j whose pixel j·s + px − p lies inside the image.
                (int j0, int j1) = CpuBackend.InsideRange(_colsQ, width, s, p, px);
                for (int i = 0; i < _rowsQ; i++)
                {
                    Span<float> line = phase.Slice(i * _colsQ, _colsQ);
                    int iy = i * s + py - p;
                    if ((uint)iy >= (uint)_g.Height || j0 >= j1)
                    {
                        line.Clear();
                        continue;
                    }

                    line[..j0].Clear();
                    line[j1..].Clear();
                    ReadOnlySpan<float> src = plane.Slice(iy * width, width);
                    if (s == 1)
                    {
                        src.Slice(j0 - p + px, j1 - j0).CopyTo(line[j0..j1]);
                    }
                    else
                    {
                        CpuBackend.StridedCopy(src, j0 * s + px - p, s, line, j0, j1);
                    }
                }
            }
        }
    }

    // Columns start .. start + count − 1 cut where the output line (sample, oy) changes, as
    // pairs (offset of the run's first window in the phase planes, relative to a row's start;
    // length).
    private int SplitRuns(int start, int count, Span<int> runs)
    {
        Debug.Assert(start >= 0 && start + count <= _g.ColumnCols);
        int outWidth = _g.OutWidth, channelBlock = _g.Channels * _side;
        int sample = start / _g.OutPlane, q = start % _g.OutPlane;
        int oy = q / outWidth, ox = q % outWidth;
        int n = 0;
        for (int pos = 0; pos < count;)
        {
            int len = Math.Min(count - pos, outWidth - ox);
            runs[2 * n] = sample * channelBlock + oy * _colsQ + ox;
            runs[2 * n + 1] = len;
            n++;
            pos += len;
            ox += len;
            if (ox == outWidth)
            {
                ox = 0;
                if (++oy == _g.OutHeight)
                {
                    oy = 0;
                    sample++;
                }
            }
        }

        return n;
    }

    // Where row (c, ky, kx) starts in the phase planes of sample 0 at window (0, 0).
    private int RowOffset(in RowCursor row) => row.C * _side + _windowOffsets[row.Window];

    // dst[0 .. len) = src[0 .. len), whole vectors where len allows (the last one overlapping).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Copy(float* src, float* dst, int len)
    {
        if (len >= 8)
        {
            int j = 0;
            for (; j + 8 <= len; j += 8)
            {
                Vector256.Store(Vector256.Load(src + j), dst + j);
            }

            if (j < len)
            {
                Vector256.Store(Vector256.Load(src + len - 8), dst + len - 8);
            }

            return;
        }

        for (int j = 0; j < len; j++)
        {
            dst[j] = src[j];
        }
    }

    // (c, window index ky·k + kx) of a column-matrix row, stepped without divisions.
    private struct RowCursor(ConvGeometry g, int row)
    {
        private readonly int _window = g.Kernel * g.Kernel;

        public int C { get; private set; } = row / (g.Kernel * g.Kernel);

        public int Window { get; private set; } = row % (g.Kernel * g.Kernel);

        public void Next()
        {
            if (++Window == _window)
            {
                Window = 0;
                C++;
            }
        }
    }
}

// y (N, channels, plane) read as the channels × N·plane matrix of its channel rows, from
// column `offset` on: the B operand of col2im(wᵀ·y) without swapping y's leading axes.
internal sealed unsafe class ChannelRows(float[] y, int batch, int channels, int plane, int offset) : IRowSource<float>
{
    public void PackRows(int row0, int rows, int start, int count, Span<float> dst, int width)
    {
        Debug.Assert(row0 + rows <= channels && offset + start + count <= batch * plane);
        Debug.Assert(rows * width * ((count + width - 1) / width) <= dst.Length);

        // (offset in y of the run's first value for channel 0, length), split at samples.
        Span<int> runs = stackalloc int[2 * (count / Math.Max(1, plane) + 2)];
        int pairs = 0;
        for (int pos = 0, l = offset + start; pos < count; pairs++)
        {
            int n = l / plane, q = l % plane, len = Math.Min(count - pos, plane - q);
            runs[2 * pairs] = n * channels * plane + q;
            runs[2 * pairs + 1] = len;
            pos += len;
            l += len;
        }

        Span<int> moves = stackalloc int[3 * (pairs + count / width + 2)];
        moves = moves[..(3 * Moves.Split(runs[..(2 * pairs)], width, rows, moves))];
        fixed (float* py = y, pd = dst)
        {
            for (int r = 0; r < rows; r++)
            {
                Moves.Gather(py + (row0 + r) * plane, moves, pd + r * width);
            }
        }
    }

    // GemmCol2Im multiplies by this matrix untransposed only.
    public void PackColumns(int row0, int rows, int start, int count, Span<float> dst, int ld) =>
        throw new NotSupportedException("ChannelRows packs rows only.");
}

// Copies of runs of a source row into panels: triples (source offset, length, destination
// offset), shared by every row of a packed block.
internal static unsafe class Moves
{
    // Runs (source offset, length) laid end to end, cut where a panel of `width` columns ends;
    // panel p starts at p·width·rows in the destination. Returns the number of triples.
    public static int Split(ReadOnlySpan<int> runs, int width, int rows, Span<int> moves)
    {
        int n = 0, pos = 0;
        for (int i = 0; i < runs.Length; i += 2)
        {
            for (int src = runs[i], left = runs[i + 1]; left > 0;)
            {
                int take = Math.Min(left, width - pos % width);
                moves[3 * n] = src;
                moves[3 * n + 1] = take;
                moves[3 * n + 2] = pos / width * width * rows + pos % width;
                n++;
                src += take;
                pos += take;
                left -= take;
            }
        }

        return n;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gather(float* row, ReadOnlySpan<int> moves, float* dst)
    {
        for (int i = 0; i < moves.Length; i += 3)
        {
            ColumnMatrix.Copy(row + moves[i], dst + moves[i + 2], moves[i + 1]);
        }
    }
}
