using ILGPU;
using ILGPU.Runtime;

namespace Mmae.Kernels.Gpu;

// n = number of elements; a, b, da: (n); loss, dLoss: (1).
// The forward sum is the deterministic two-stage reduction of Reduction.cs.
public sealed partial class GpuBackend
{
    private Action<AcceleratorStream, KernelConfig, ArrayView<double>, int, ArrayView<float>>
        _mseFinish = null!;
    private Action<
        AcceleratorStream,
        Index1D,
        ArrayView<float>,
        ArrayView<float>,
        ArrayView<float>,
        ArrayView<float>,
        int> _mseBackward = null!;

    /// <inheritdoc/>
    public void MseForward(DeviceBuffer a, DeviceBuffer b, DeviceBuffer loss)
    {
        int n = a.Length;
        ArrayView<double> sums = Scratch("mse", 1);
        Sum(TermSquaredDifference, V(a), V(b), n, sums, 0);
        _mseFinish(_stream, Groups(1), sums, n, V(loss));
    }

    /// <inheritdoc/>
    public void MseBackward(DeviceBuffer a, DeviceBuffer b, DeviceBuffer dLoss, DeviceBuffer da) =>
        Launch(da.Length, _mseBackward, V(a), V(b), V(dLoss), V(da), Math.Max(a.Length, 1));

    private static GpuKernel[] LossKernels =>
    [
        Define(MseFinishKernel, static b => ref b._mseFinish),
        Define(MseBackwardKernel, static b => ref b._mseBackward),
    ];

    // loss = Σ(a − b)² / n; an empty input gives 0.
    internal static void MseFinishKernel(ArrayView<double> sums, int n, ArrayView<float> loss)
    {
        if (Group.IdxX == 0)
        {
            loss[0] = n == 0 ? 0f : (float)(sums[0] / n);
        }
    }

    // da = dLoss·2·(a − b)/n, with 2·dLoss/n formed in float as the CPU backend does.
    internal static void MseBackwardKernel(
        Index1D i,
        ArrayView<float> a,
        ArrayView<float> b,
        ArrayView<float> dLoss,
        ArrayView<float> da,
        int n)
    {
        float scale = 2f * dLoss[0] / n;
        da[i] = (a[i] - b[i]) * scale;
    }
}
