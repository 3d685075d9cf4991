using ILGPU;
using ILGPU.Runtime;

namespace Mmae.Kernels.Gpu;

// Elementwise kernels of the convolutional networks: LeakyReLU and the dropout product; one
// thread per element. LeakyReLU and its backward pass share one kernel: dst = x > 0 ? v :
// slope·v, with v = x forward and v = dy backward.
public sealed partial class GpuBackend
{
    private Action<
        AcceleratorStream,
        Index1D,
        ArrayView<float>,
        ArrayView<float>,
        float,
        ArrayView<float>> _leakyRelu = null!;
    private Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>>
        _multiply = null!;

    /// <inheritdoc/>
    public void LeakyRelu(DeviceBuffer x, float slope, DeviceBuffer dst) =>
        Launch(dst.Length, _leakyRelu, V(x), V(x), slope, V(dst));

    /// <inheritdoc/>
    public void LeakyReluBackward(DeviceBuffer x, DeviceBuffer dy, float slope, DeviceBuffer dx) =>
        Launch(dx.Length, _leakyRelu, V(x), V(dy), slope, V(dx));

    /// <inheritdoc/>
    public void Multiply(DeviceBuffer a, DeviceBuffer b, DeviceBuffer dst) =>
        Launch(dst.Length, _multiply, V(a), V(b), V(dst));

    private static GpuKernel[] ConvElementwiseKernels =>
    [
        Define(LeakyReluKernel, static b => ref b._leakyRelu),
        Define(MultiplyKernel, static b => ref b._multiply),
    ];

    internal static void LeakyReluKernel(
        Index1D i,
        ArrayView<float> x,
        ArrayView<float> v,
        float slope,
        ArrayView<float> dst) =>
        dst[i] = x[i] > 0f ? v[i] : slope * v[i];

    internal static void MultiplyKernel(
        Index1D i,
        ArrayView<float> a,
        ArrayView<float> b,
        ArrayView<float> dst) =>
        dst[i] = a[i] * b[i];
}
