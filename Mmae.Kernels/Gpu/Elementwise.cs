using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace Mmae.Kernels.Gpu;

// n = elements; every view below is (n), except bias: (cols) and x: (rows, cols) row-major.
// One thread per element, grouped by ILGPU; the bias kernels index i = row·cols + col.
// Limitation: ColumnSums runs one thread per column, so a bias gradient of few features over a
// huge batch leaves most of a GPU idle; a split-row tree (as Reduction.cs) would lift that.
public sealed partial class GpuBackend
{
    private Action<AcceleratorStream, Index1D, ArrayView<float>, float> _fill = null!;
    private Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>> _copy = null!;
    private Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>
        _add = null!;
    private Action<
        AcceleratorStream,
        Index1D,
        float,
        ArrayView<float>,
        ArrayView<float>> _axpy = null!;
    private Action<
        AcceleratorStream,
        Index1D,
        ArrayView<float>,
        float,
        ArrayView<float>,
        ArrayView<float>> _axpyScaled = null!;
    private Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>> _relu = null!;
    private Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>
        _reluBackward = null!;
    private Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>> _tanh = null!;
    private Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>
        _tanhBackward = null!;
    private Action<
        AcceleratorStream,
        Index1D,
        ArrayView<float>,
        ArrayView<float>,
        int> _addRowVector = null!;
    private Action<AcceleratorStream, Index1D, ArrayView<float>, int, int, ArrayView<float>, int>
        _columnSums = null!;

    /// <inheritdoc/>
    public void Fill(DeviceBuffer dst, float value) => Launch(dst.Length, _fill, V(dst), value);

    /// <inheritdoc/>
    public void Copy(DeviceBuffer src, DeviceBuffer dst) =>
        Launch(dst.Length, _copy, V(src), V(dst));

    /// <inheritdoc/>
    public void Add(DeviceBuffer a, DeviceBuffer b, DeviceBuffer dst) =>
        Launch(dst.Length, _add, V(a), V(b), V(dst));

    /// <inheritdoc/>
    public void Axpy(float alpha, DeviceBuffer x, DeviceBuffer y) =>
        Launch(y.Length, _axpy, alpha, V(x), V(y));

    /// <inheritdoc/>
    public void AxpyScaled(DeviceBuffer scale, float alpha, DeviceBuffer x, DeviceBuffer y) =>
        Launch(y.Length, _axpyScaled, V(scale), alpha, V(x), V(y));

    /// <inheritdoc/>
    public void Relu(DeviceBuffer x, DeviceBuffer dst) => Launch(dst.Length, _relu, V(x), V(dst));

    /// <inheritdoc/>
    public void ReluBackward(DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx) =>
        Launch(dx.Length, _reluBackward, V(y), V(dy), V(dx));

    /// <inheritdoc/>
    public void Tanh(DeviceBuffer x, DeviceBuffer dst) => Launch(dst.Length, _tanh, V(x), V(dst));

    /// <inheritdoc/>
    public void TanhBackward(DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx) =>
        Launch(dx.Length, _tanhBackward, V(y), V(dy), V(dx));

    /// <inheritdoc/>
    public void AddRowVector(DeviceBuffer x, DeviceBuffer bias, int rows, int cols) =>
        Launch(rows * cols, _addRowVector, V(x), V(bias), cols);

    /// <inheritdoc/>
    /// <remarks>One thread per column sums its rows in row order (float64), so the result is
    /// deterministic; parallelism is only over columns.</remarks>
    public void ColumnSums(DeviceBuffer x, int rows, int cols, DeviceBuffer dst, bool accumulate) =>
        Launch(cols, _columnSums, V(x), rows, cols, V(dst), accumulate ? 1 : 0);

    private static GpuKernel[] ElementwiseKernels =>
    [
        Define(FillKernel, static b => ref b._fill),
        Define(CopyKernel, static b => ref b._copy),
        Define(AddKernel, static b => ref b._add),
        Define(AxpyKernel, static b => ref b._axpy),
        Define(AxpyScaledKernel, static b => ref b._axpyScaled),
        Define(ReluKernel, static b => ref b._relu),
        Define(ReluBackwardKernel, static b => ref b._reluBackward),
        Define(TanhKernel, static b => ref b._tanh),
        Define(TanhBackwardKernel, static b => ref b._tanhBackward),
        Define(AddRowVectorKernel, static b => ref b._addRowVector),
        Define(ColumnSumsKernel, static b => ref b._columnSums),
    ];

    // Launchers skip empty extents: a grid of zero threads is an error on some accelerators.
    private void Launch<T1, T2>(
        int n,
        Action<AcceleratorStream, Index1D, T1, T2> kernel,
        T1 a1,
        T2 a2)
        where T1 : struct
        where T2 : struct
    {
        if (n > 0)
        {
            kernel(_stream, n, a1, a2);
        }
    }

    private void Launch<T1, T2, T3>(
        int n,
        Action<AcceleratorStream, Index1D, T1, T2, T3> kernel,
        T1 a1,
        T2 a2,
        T3 a3)
        where T1 : struct
        where T2 : struct
        where T3 : struct
    {
        if (n > 0)
        {
            kernel(_stream, n, a1, a2, a3);
        }
    }

    private void Launch<T1, T2, T3, T4>(
        int n,
        Action<AcceleratorStream, Index1D, T1, T2, T3, T4> kernel,
        T1 a1,
        T2 a2,
        T3 a3,
        T4 a4)
        where T1 : struct
        where T2 : struct
        where T3 : struct
        where T4 : struct
    {
        if (n > 0)
        {
            kernel(_stream, n, a1, a2, a3, a4);
        }
    }

    private void Launch<T1, T2, T3, T4, T5>(
        int n,
        Action<AcceleratorStream, Index1D, T1, T2, T3, T4, T5> kernel,
        T1 a1,
        T2 a2,
        T3 a3,
        T4 a4,
        T5 a5)
        where T1 : struct
        where T2 : struct
        where T3 : struct
        where T4 : struct
        where T5 : struct
    {
        if (n > 0)
        {
            kernel(_stream, n, a1, a2, a3, a4, a5);
        }
    }

    internal static void FillKernel(Index1D i, ArrayView<float> dst, float value) => dst[i] = value;

    internal static void CopyKernel(Index1D i, ArrayView<float> src, ArrayView<float> dst) =>
        dst[i] = src[i];

    internal static void AddKernel(
        Index1D i,
        ArrayView<float> a,
        ArrayView<float> b,
        ArrayView<float> dst) =>
        dst[i] = a[i] + b[i];

    internal static void AxpyKernel(Index1D i, float alpha, ArrayView<float> x, ArrayView<float> y) =>
        y[i] += alpha * x[i];

    // s·alpha is formed once per thread in float, as the CPU backend forms it once per call.
    internal static void AxpyScaledKernel(
        Index1D i,
        ArrayView<float> scale,
        float alpha,
        ArrayView<float> x,
        ArrayView<float> y) =>
        y[i] += scale[0] * alpha * x[i];

    internal static void ReluKernel(Index1D i, ArrayView<float> x, ArrayView<float> dst) =>
        dst[i] = x[i] > 0f ? x[i] : 0f;

    internal static void ReluBackwardKernel(
        Index1D i,
        ArrayView<float> y,
        ArrayView<float> dy,
        ArrayView<float> dx) =>
        dx[i] = y[i] > 0f ? dy[i] : 0f;

    internal static void TanhKernel(Index1D i, ArrayView<float> x, ArrayView<float> dst) =>
        dst[i] = XMath.Tanh(x[i]);

    // dx = dy·(1 − y²)
    internal static void TanhBackwardKernel(
        Index1D i,
        ArrayView<float> y,
        ArrayView<float> dy,
        ArrayView<float> dx) =>
        dx[i] = dy[i] * (1f - y[i] * y[i]);

    internal static void AddRowVectorKernel(
        Index1D i,
        ArrayView<float> x,
        ArrayView<float> bias,
        int cols) =>
        x[i] += bias[i % cols];

    // dst[j] (+)= Σ_i x[i, j], one thread per column j, rows in order.
    internal static void ColumnSumsKernel(
        Index1D j,
        ArrayView<float> x,
        int rows,
        int cols,
        ArrayView<float> dst,
        int accumulate)
    {
        double sum = 0;
        for (int i = 0; i < rows; i++)
        {
            sum += x[i * cols + j];
        }

        dst[j] = accumulate != 0 ? (float)(dst[j] + sum) : (float)sum;
    }
}
