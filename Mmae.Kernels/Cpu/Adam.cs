using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Mmae.Kernels.Cpu;

// One pass over param, grad, m and v: read four streams, write three.
public sealed partial class CpuBackend
{
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
        float[] pp = F(param), pg = F(grad), pm = F(m), pv = F(v);
        ForChunks(pp.Length, (s, e) => AdamSpan(
            pp.AsSpan(s..e), pg.AsSpan(s..e), pm.AsSpan(s..e), pv.AsSpan(s..e),
            learningRate, beta1, beta2, eps, biasCorrection1, biasCorrection2));
    }

    private static void AdamSpan(
        Span<float> p,
        ReadOnlySpan<float> g,
        Span<float> m,
        Span<float> v,
        float lr,
        float beta1,
        float beta2,
        float eps,
        float c1,
        float c2)
    {
        // param −= (lr/c1)·m / (sqrt(v)/sqrt(c2) + eps), PyTorch's arrangement of the update.
        float stepSize = lr / c1;
        float invSqrtC2 = 1f / MathF.Sqrt(c2);
        ref float rp = ref MemoryMarshal.GetReference(p);
        ref float rg = ref MemoryMarshal.GetReference(g);
        ref float rm = ref MemoryMarshal.GetReference(m);
        ref float rv = ref MemoryMarshal.GetReference(v);
        var b1 = Vector256.Create(beta1);
        var b2 = Vector256.Create(beta2);
        var ob1 = Vector256.Create(1f - beta1);
        var ob2 = Vector256.Create(1f - beta2);
        var vs = Vector256.Create(stepSize);
        var vc = Vector256.Create(invSqrtC2);
        var ve = Vector256.Create(eps);
        int i = 0;
        for (; i <= p.Length - 8; i += 8)
        {
            Vector256<float> gv = Vector256.LoadUnsafe(ref rg, (nuint)i);
            Vector256<float> mv = b1 * Vector256.LoadUnsafe(ref rm, (nuint)i) + ob1 * gv;
            Vector256<float> vv = b2 * Vector256.LoadUnsafe(ref rv, (nuint)i) + ob2 * gv * gv;
            mv.StoreUnsafe(ref rm, (nuint)i);
            vv.StoreUnsafe(ref rv, (nuint)i);
            Vector256<float> denom = Vector256.Sqrt(vv) * vc + ve;
            (Vector256.LoadUnsafe(ref rp, (nuint)i) - vs * mv / denom).StoreUnsafe(ref rp, (nuint)i);
        }

        for (; i < p.Length; i++)
        {
            m[i] = beta1 * m[i] + (1f - beta1) * g[i];
            v[i] = beta2 * v[i] + (1f - beta2) * g[i] * g[i];
            p[i] -= stepSize * m[i] / (MathF.Sqrt(v[i]) * invSqrtC2 + eps);
        }
    }
}
