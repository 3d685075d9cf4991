using System.Diagnostics;

namespace Mmae.Kernels.Cpu;

/// <summary>
/// The float32 host backend: AVX2/FMA kernels, with a 512-bit SGEMM tile where AVX-512 runs at
/// full width (plain loops where the processor lacks AVX2), spread over a fixed number of threads.
/// </summary>
/// <remarks>
/// Results do not depend on the thread count: work is cut into chunks whose bounds depend only
/// on the problem size, and partial sums are combined in chunk order. An instance keeps scratch
/// memory between calls, so it serves one caller at a time (kernels themselves use all threads).
/// </remarks>
public sealed partial class CpuBackend : IBackend
{
    // Elementwise work below this many elements is not worth a thread hand-off.
    private const int ElementChunk = 1 << 15;

    /// <summary>A backend using every logical core.</summary>
    public CpuBackend()
        : this(Environment.ProcessorCount)
    {
    }

    /// <summary>A backend using <paramref name="threads"/> threads.</summary>
    /// <exception cref="ArgumentOutOfRangeException">threads is below 1.</exception>
    public CpuBackend(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Threads = threads;
    }

    /// <summary>Number of worker threads kernels may use.</summary>
    public int Threads { get; }

    /// <inheritdoc/>
    /// <remarks>cpu-avx512 where SGEMM runs its 512-bit tile (the other kernels use 256-bit
    /// vectors either way), cpu-avx2 with AVX2/FMA, cpu-scalar without.</remarks>
    public string Name =>
        System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Avx512F.IsSupported
            ? "cpu-avx512"
            : System.Runtime.Intrinsics.X86.Fma.IsSupported ? "cpu-avx2" : "cpu-scalar";

    /// <inheritdoc/>
    public int ElementSize => sizeof(float);

    /// <inheritdoc/>
    public DeviceBuffer Allocate(int length) => new FloatBuffer(this, new float[length]);

    /// <inheritdoc/>
    public DeviceBuffer Upload(ReadOnlySpan<float> data) => new FloatBuffer(this, data.ToArray());

    /// <inheritdoc/>
    public DeviceBuffer Upload(ReadOnlySpan<double> data)
    {
        var result = new float[data.Length];
        for (int i = 0; i < data.Length; i++)
        {
            result[i] = (float)data[i];
        }

        return new FloatBuffer(this, result);
    }

    /// <inheritdoc/>
    public void Write(ReadOnlySpan<float> src, DeviceBuffer dst) => src.CopyTo(F(dst));

    /// <inheritdoc/>
    public void Download(DeviceBuffer src, Span<float> dst) =>
        F(src).AsSpan(0, dst.Length).CopyTo(dst);

    /// <inheritdoc/>
    public void Download(DeviceBuffer src, Span<double> dst)
    {
        float[] s = F(src);
        for (int i = 0; i < dst.Length; i++)
        {
            dst[i] = s[i];
        }
    }

    /// <inheritdoc/>
    public void Fill(DeviceBuffer dst, float value) => Array.Fill(F(dst), value);

    /// <inheritdoc/>
    public void Copy(DeviceBuffer src, DeviceBuffer dst) => F(src).AsSpan().CopyTo(F(dst));

    /// <inheritdoc/>
    public void Add(DeviceBuffer a, DeviceBuffer b, DeviceBuffer dst)
    {
        float[] pa = F(a), pb = F(b), pd = F(dst);
        ForChunks(pd.Length, (s, e) =>
            Elementwise.Add(pa.AsSpan(s..e), pb.AsSpan(s..e), pd.AsSpan(s..e)));
    }

    /// <inheritdoc/>
    public void Axpy(float alpha, DeviceBuffer x, DeviceBuffer y)
    {
        float[] px = F(x), py = F(y);
        ForChunks(py.Length, (s, e) => Elementwise.Axpy(alpha, px.AsSpan(s..e), py.AsSpan(s..e)));
    }

    /// <inheritdoc/>
    public void AxpyScaled(DeviceBuffer scale, float alpha, DeviceBuffer x, DeviceBuffer y) =>
        Axpy(F(scale)[0] * alpha, x, y);

    /// <inheritdoc/>
    public void Relu(DeviceBuffer x, DeviceBuffer dst)
    {
        float[] px = F(x), pd = F(dst);
        ForChunks(pd.Length, (s, e) => Elementwise.Relu(px.AsSpan(s..e), pd.AsSpan(s..e)));
    }

    /// <inheritdoc/>
    public void ReluBackward(DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx)
    {
        float[] py = F(y), pg = F(dy), pd = F(dx);
        ForChunks(pd.Length, (s, e) =>
            Elementwise.ReluBackward(py.AsSpan(s..e), pg.AsSpan(s..e), pd.AsSpan(s..e)));
    }

    /// <inheritdoc/>
    public void Tanh(DeviceBuffer x, DeviceBuffer dst)
    {
        float[] px = F(x), pd = F(dst);
        ForChunks(pd.Length, (s, e) => Elementwise.Tanh(px.AsSpan(s..e), pd.AsSpan(s..e)));
    }

    /// <inheritdoc/>
    public void TanhBackward(DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx)
    {
        float[] py = F(y), pg = F(dy), pd = F(dx);
        ForChunks(pd.Length, (s, e) =>
            Elementwise.TanhBackward(py.AsSpan(s..e), pg.AsSpan(s..e), pd.AsSpan(s..e)));
    }

    /// <inheritdoc/>
    public void Gemm(
        bool transA,
        bool transB,
        int m,
        int n,
        int k,
        float alpha,
        DeviceBuffer a,
        DeviceBuffer b,
        float beta,
        DeviceBuffer c) =>
        Gemm<float>.Run(transA, transB, m, n, k, alpha, F(a), F(b), beta, F(c), Threads);

    /// <inheritdoc/>
    public void AddRowVector(DeviceBuffer x, DeviceBuffer bias, int rows, int cols)
    {
        float[] px = F(x), pb = F(bias);
        Debug.Assert(px.Length >= rows * cols && pb.Length >= cols);
        int rowsPerChunk = Math.Max(1, ElementChunk / Math.Max(cols, 1));
        ForChunks(rows, rowsPerChunk, (s, e) =>
        {
            for (int i = s; i < e; i++)
            {
                Span<float> row = px.AsSpan(i * cols, cols);
                Elementwise.AddInto(pb.AsSpan(0, cols), row);
            }
        });
    }

    /// <inheritdoc/>
    public void ColumnSums(DeviceBuffer x, int rows, int cols, DeviceBuffer dst, bool accumulate)
    {
        float[] px = F(x), pd = F(dst);
        // Columns are independent, so splitting over column ranges keeps the row order fixed.
        ForChunks(cols, 256, (s, e) =>
        {
            Span<float> d = pd.AsSpan(s, e - s);
            if (!accumulate)
            {
                d.Clear();
            }

            for (int i = 0; i < rows; i++)
            {
                Elementwise.AddInto(px.AsSpan(i * cols + s, e - s), d);
            }
        });
    }

    private void ForChunks(int length, Action<int, int> body) =>
        Parallelism.ForChunks(length, ElementChunk, Threads, body);

    private void ForChunks(int length, int chunk, Action<int, int> body) =>
        Parallelism.ForChunks(length, chunk, Threads, body);

    private float[] F(DeviceBuffer buffer)
    {
        if (buffer is FloatBuffer fb && fb.Backend is CpuBackend)
        {
            return fb.Data;
        }

        throw new ArgumentException(
            $"{Name}: buffer belongs to backend '{buffer.Backend.Name}', not this one. "
            + "Move tensors to one device before combining them.", nameof(buffer));
    }
}
