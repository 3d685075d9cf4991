using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace Mmae.Kernels.Gpu;

// param, grad, m, v: (n). One thread per element: read four streams, write three.
public sealed partial class GpuBackend
{
    private Action<
        AcceleratorStream,
        Index1D,
        ArrayView<float>,
        ArrayView<float>,
        ArrayView<float>,
        ArrayView<float>,
        AdamCoefficients> _adam = null!;

    /// <inheritdoc/>
    public void AdamStep(
        DeviceBuffer param,
        DeviceBuffer grad,
        DeviceBuffer m,
        DeviceBuffer v,
        float learningRate,
        float beta1,
        float beta2,
        float eps,
        float biasCorrection1,
        float biasCorrection2)
    {
        var coefficients = new AdamCoefficients(
            beta1, beta2, eps, learningRate / biasCorrection1, 1f / MathF.Sqrt(biasCorrection2));
        Launch(param.Length, _adam, V(param), V(grad), V(m), V(v), coefficients);
    }

    private static GpuKernel[] AdamKernels => [Define(AdamKernel, static b => ref b._adam)];

    /// <summary>The per-step constants of one Adam update, passed to the kernel by value.</summary>
    internal readonly record struct AdamCoefficients(
        float Beta1,
        float Beta2,
        float Eps,
        float StepSize,
        float InvSqrtC2);

    // param −= (lr/c1)·m / (sqrt(v)/sqrt(c2) + eps), PyTorch's arrangement, as on the CPU.
    internal static void AdamKernel(
        Index1D i,
        ArrayView<float> param,
        ArrayView<float> grad,
        ArrayView<float> m,
        ArrayView<float> v,
        AdamCoefficients c)
    {
        float g = grad[i];
        float mi = c.Beta1 * m[i] + (1f - c.Beta1) * g;
        float vi = c.Beta2 * v[i] + (1f - c.Beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        param[i] -= c.StepSize * mi / (XMath.Sqrt(vi) * c.InvSqrtC2 + c.Eps);
    }
}
