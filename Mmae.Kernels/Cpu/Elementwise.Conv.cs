using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Mmae.Kernels.Cpu;

// Elementwise kernels of the convolutional networks: LeakyReLU and the dropout product.
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void LeakyRelu(DeviceBuffer x, float slope, DeviceBuffer dst)
    {
        float[] px = F(x), pd = F(dst);
        ForChunks(pd.Length, (s, e) =>
            PlaneKernels.LeakyRelu(px.AsSpan(s..e), px.AsSpan(s..e), slope, pd.AsSpan(s..e)));
    }

    /// <inheritdoc/>
    public void LeakyReluBackward(DeviceBuffer x, DeviceBuffer dy, float slope, DeviceBuffer dx)
    {
        float[] px = F(x), pg = F(dy), pd = F(dx);
        ForChunks(pd.Length, (s, e) =>
            PlaneKernels.LeakyRelu(px.AsSpan(s..e), pg.AsSpan(s..e), slope, pd.AsSpan(s..e)));
    }

    /// <inheritdoc/>
    public void Multiply(DeviceBuffer a, DeviceBuffer b, DeviceBuffer dst)
    {
        float[] pa = F(a), pb = F(b), pd = F(dst);
        ForChunks(pd.Length, (s, e) =>
            PlaneKernels.Multiply(pa.AsSpan(s..e), pb.AsSpan(s..e), pd.AsSpan(s..e)));
    }
}

// Span kernels over one channel plane or one chunk: inputs first, destination last, 8 lanes
// at a time with a scalar tail, no allocation.
internal static class PlaneKernels
{
    private const int W = 8;

    // dst[i] = x[i] > 0 ? v[i] : slope·v[i]. With v = x this is LeakyReLU, with v = dy its
    // backward pass (the derivative is 1 or slope by the sign of the input).
    public static void LeakyRelu(ReadOnlySpan<float> x, ReadOnlySpan<float> v, float slope, Span<float> dst)
    {
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float pv = ref MemoryMarshal.GetReference(v);
        ref float pd = ref MemoryMarshal.GetReference(dst);
        var vs = Vector256.Create(slope);
        int i = 0;
        for (; i <= dst.Length - W; i += W)
        {
            Vector256<float> positive = Vector256.GreaterThan(
                Vector256.LoadUnsafe(ref px, (nuint)i), Vector256<float>.Zero);
            Vector256<float> value = Vector256.LoadUnsafe(ref pv, (nuint)i);
            Vector256.ConditionalSelect(positive, value, value * vs).StoreUnsafe(ref pd, (nuint)i);
        }

        for (; i < dst.Length; i++)
        {
            dst[i] = x[i] > 0f ? v[i] : slope * v[i];
        }
    }

    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dst)
    {
        ref float pa = ref MemoryMarshal.GetReference(a);
        ref float pb = ref MemoryMarshal.GetReference(b);
        ref float pd = ref MemoryMarshal.GetReference(dst);
        int i = 0;
        for (; i <= dst.Length - W; i += W)
        {
            (Vector256.LoadUnsafe(ref pa, (nuint)i) * Vector256.LoadUnsafe(ref pb, (nuint)i))
                .StoreUnsafe(ref pd, (nuint)i);
        }

        for (; i < dst.Length; i++)
        {
            dst[i] = a[i] * b[i];
        }
    }

    public static void AddScalar(float value, Span<float> x)
    {
        ref float px = ref MemoryMarshal.GetReference(x);
        var vv = Vector256.Create(value);
        int i = 0;
        for (; i <= x.Length - W; i += W)
        {
            (Vector256.LoadUnsafe(ref px, (nuint)i) + vv).StoreUnsafe(ref px, (nuint)i);
        }

        for (; i < x.Length; i++)
        {
            x[i] += value;
        }
    }

    // y[i] = x[i]·scale + shift
    public static void Affine(ReadOnlySpan<float> x, float scale, float shift, Span<float> y)
    {
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float py = ref MemoryMarshal.GetReference(y);
        var va = Vector256.Create(scale);
        var vb = Vector256.Create(shift);
        int i = 0;
        for (; i <= y.Length - W; i += W)
        {
            Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref px, (nuint)i), va, vb)
                .StoreUnsafe(ref py, (nuint)i);
        }

        for (; i < y.Length; i++)
        {
            y[i] = MathF.FusedMultiplyAdd(x[i], scale, shift);
        }
    }

    // dx[i] = a·dy[i] + b·x[i] + c
    public static void Affine2(
        ReadOnlySpan<float> dy,
        ReadOnlySpan<float> x,
        float a,
        float b,
        float c,
        Span<float> dx)
    {
        ref float pg = ref MemoryMarshal.GetReference(dy);
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float pd = ref MemoryMarshal.GetReference(dx);
        var va = Vector256.Create(a);
        var vb = Vector256.Create(b);
        var vc = Vector256.Create(c);
        int i = 0;
        for (; i <= dx.Length - W; i += W)
        {
            Vector256<float> t = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref px, (nuint)i), vb, vc);
            Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref pg, (nuint)i), va, t)
                .StoreUnsafe(ref pd, (nuint)i);
        }

        for (; i < dx.Length; i++)
        {
            dx[i] = a * dy[i] + b * x[i] + c;
        }
    }

    // Σ x[i], in float lanes widened to double at the end of the run.
    public static double Sum(ReadOnlySpan<float> x)
    {
        ref float px = ref MemoryMarshal.GetReference(x);
        Vector256<float> acc = Vector256<float>.Zero;
        int i = 0;
        for (; i <= x.Length - W; i += W)
        {
            acc += Vector256.LoadUnsafe(ref px, (nuint)i);
        }

        double sum = Widened(acc);
        for (; i < x.Length; i++)
        {
            sum += x[i];
        }

        return sum;
    }

    // Σ (x[i] − mean)²
    public static double SumSquaredDeviation(ReadOnlySpan<float> x, float mean)
    {
        ref float px = ref MemoryMarshal.GetReference(x);
        Vector256<float> acc = Vector256<float>.Zero;
        var vm = Vector256.Create(mean);
        int i = 0;
        for (; i <= x.Length - W; i += W)
        {
            Vector256<float> d = Vector256.LoadUnsafe(ref px, (nuint)i) - vm;
            acc = Vector256.FusedMultiplyAdd(d, d, acc);
        }

        double sum = Widened(acc);
        for (; i < x.Length; i++)
        {
            double d = x[i] - mean;
            sum += d * d;
        }

        return sum;
    }

    // (Σ dy[i], Σ dy[i]·(x[i] − mean))
    public static (double SumDy, double SumDyCentred) BackwardSums(
        ReadOnlySpan<float> dy,
        ReadOnlySpan<float> x,
        float mean)
    {
        ref float pg = ref MemoryMarshal.GetReference(dy);
        ref float px = ref MemoryMarshal.GetReference(x);
        Vector256<float> accDy = Vector256<float>.Zero, accProduct = Vector256<float>.Zero;
        var vm = Vector256.Create(mean);
        int i = 0;
        for (; i <= x.Length - W; i += W)
        {
            Vector256<float> g = Vector256.LoadUnsafe(ref pg, (nuint)i);
            accDy += g;
            Vector256<float> centred = Vector256.LoadUnsafe(ref px, (nuint)i) - vm;
            accProduct = Vector256.FusedMultiplyAdd(g, centred, accProduct);
        }

        double sumDy = Widened(accDy), sumProduct = Widened(accProduct);
        for (; i < x.Length; i++)
        {
            sumDy += dy[i];
            sumProduct += dy[i] * (double)(x[i] - mean);
        }

        return (sumDy, sumProduct);
    }

    private static double Widened(Vector256<float> acc)
    {
        (Vector256<double> lo, Vector256<double> hi) = Vector256.Widen(acc);
        return Vector256.Sum(lo + hi);
    }
}
