using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Mmae.Kernels.Cpu;

// Span kernels: inputs first, destination last; no allocation. Each runs 8 lanes at a time
// with Vector256 (software-emulated but correct where AVX is missing) and a scalar tail.
internal static class Elementwise
{
    private const int W = 8;

    public static void Scale(Span<float> x, float alpha)
    {
        ref float px = ref MemoryMarshal.GetReference(x);
        int i = 0;
        var va = Vector256.Create(alpha);
        for (; i <= x.Length - W; i += W)
        {
            (Vector256.LoadUnsafe(ref px, (nuint)i) * va).StoreUnsafe(ref px, (nuint)i);
        }

        for (; i < x.Length; i++)
        {
            x[i] *= alpha;
        }
    }

    public static void Add(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> dst)
    {
        ref float pa = ref MemoryMarshal.GetReference(a);
        ref float pb = ref MemoryMarshal.GetReference(b);
        ref float pd = ref MemoryMarshal.GetReference(dst);
        int i = 0;
        for (; i <= dst.Length - W; i += W)
        {
            (Vector256.LoadUnsafe(ref pa, (nuint)i) + Vector256.LoadUnsafe(ref pb, (nuint)i))
                .StoreUnsafe(ref pd, (nuint)i);
        }

        for (; i < dst.Length; i++)
        {
            dst[i] = a[i] + b[i];
        }
    }

    public static void Axpy(float alpha, ReadOnlySpan<float> x, Span<float> y)
    {
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float py = ref MemoryMarshal.GetReference(y);
        var va = Vector256.Create(alpha);
        int i = 0;
        for (; i <= y.Length - W; i += W)
        {
            Vector256<float> v = Vector256.LoadUnsafe(ref py, (nuint)i);
            Vector256.FusedMultiplyAdd(va, Vector256.LoadUnsafe(ref px, (nuint)i), v)
                .StoreUnsafe(ref py, (nuint)i);
        }

        for (; i < y.Length; i++)
        {
            y[i] = MathF.FusedMultiplyAdd(alpha, x[i], y[i]);
        }
    }

    public static void Relu(ReadOnlySpan<float> x, Span<float> dst)
    {
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float pd = ref MemoryMarshal.GetReference(dst);
        int i = 0;
        for (; i <= dst.Length - W; i += W)
        {
            Vector256.Max(Vector256.LoadUnsafe(ref px, (nuint)i), Vector256<float>.Zero)
                .StoreUnsafe(ref pd, (nuint)i);
        }

        for (; i < dst.Length; i++)
        {
            dst[i] = x[i] > 0f ? x[i] : 0f;
        }
    }

    public static void ReluBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        ref float py = ref MemoryMarshal.GetReference(y);
        ref float pg = ref MemoryMarshal.GetReference(dy);
        ref float pd = ref MemoryMarshal.GetReference(dx);
        int i = 0;
        for (; i <= dx.Length - W; i += W)
        {
            Vector256<float> mask = Vector256.GreaterThan(
                Vector256.LoadUnsafe(ref py, (nuint)i), Vector256<float>.Zero);
            (Vector256.LoadUnsafe(ref pg, (nuint)i) & mask).StoreUnsafe(ref pd, (nuint)i);
        }

        for (; i < dx.Length; i++)
        {
            dx[i] = y[i] > 0f ? dy[i] : 0f;
        }
    }

    // tanh(x) = sign(x)·(1 − t)/(1 + t) with t = exp(−2|x|) ∈ (0, 1]: no overflow for large
    // |x|, and no cancellation near 0 is worse than float's own rounding of 1 − t.
    public static void Tanh(ReadOnlySpan<float> x, Span<float> dst)
    {
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float pd = ref MemoryMarshal.GetReference(dst);
        int i = 0;
        var one = Vector256<float>.One;
        var minusTwo = Vector256.Create(-2f);
        var small = Vector256.Create(0.0625f);
        for (; i <= dst.Length - W; i += W)
        {
            Vector256<float> v = Vector256.LoadUnsafe(ref px, (nuint)i);
            Vector256<float> ax = Vector256.Abs(v);
            Vector256<float> t = Vector256.Exp(ax * minusTwo);
            Vector256<float> r = (one - t) / (one + t);
            // Near zero 1 − t loses bits; tanh(x) ≈ x − x³/3 + 2x⁵/15 is exact to float there.
            Vector256<float> x2 = ax * ax;
            Vector256<float> poly = ax * (one + x2 * (Vector256.Create(-1f / 3f)
                + x2 * Vector256.Create(2f / 15f)));
            r = Vector256.ConditionalSelect(Vector256.LessThan(ax, small), poly, r);
            r = Vector256.CopySign(r, v);
            r.StoreUnsafe(ref pd, (nuint)i);
        }

        for (; i < dst.Length; i++)
        {
            dst[i] = MathF.Tanh(x[i]);
        }
    }

    public static void TanhBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        ref float py = ref MemoryMarshal.GetReference(y);
        ref float pg = ref MemoryMarshal.GetReference(dy);
        ref float pd = ref MemoryMarshal.GetReference(dx);
        int i = 0;
        for (; i <= dx.Length - W; i += W)
        {
            Vector256<float> yv = Vector256.LoadUnsafe(ref py, (nuint)i);
            (Vector256.LoadUnsafe(ref pg, (nuint)i) * (Vector256<float>.One - yv * yv))
                .StoreUnsafe(ref pd, (nuint)i);
        }

        for (; i < dx.Length; i++)
        {
            dx[i] = dy[i] * (1f - y[i] * y[i]);
        }
    }

    /// <summary>Σ (a[i] − b[i])², accumulated in double lanes.</summary>
    public static double SumSquaredDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        ref float pa = ref MemoryMarshal.GetReference(a);
        ref float pb = ref MemoryMarshal.GetReference(b);
        Vector256<double> acc = Vector256<double>.Zero;
        int i = 0;
        for (; i <= a.Length - W; i += W)
        {
            Vector256<float> d = Vector256.LoadUnsafe(ref pa, (nuint)i)
                - Vector256.LoadUnsafe(ref pb, (nuint)i);
            (Vector256<double> lo, Vector256<double> hi) = Vector256.Widen(d);
            acc += lo * lo + hi * hi;
        }

        double sum = Vector256.Sum(acc);
        for (; i < a.Length; i++)
        {
            double d = a[i] - b[i];
            sum += d * d;
        }

        return sum;
    }

    public static void ScaledDifference(
        ReadOnlySpan<float> a,
        ReadOnlySpan<float> b,
        float scale,
        Span<float> dst)
    {
        ref float pa = ref MemoryMarshal.GetReference(a);
        ref float pb = ref MemoryMarshal.GetReference(b);
        ref float pd = ref MemoryMarshal.GetReference(dst);
        var vs = Vector256.Create(scale);
        int i = 0;
        for (; i <= dst.Length - W; i += W)
        {
            ((Vector256.LoadUnsafe(ref pa, (nuint)i) - Vector256.LoadUnsafe(ref pb, (nuint)i)) * vs)
                .StoreUnsafe(ref pd, (nuint)i);
        }

        for (; i < dst.Length; i++)
        {
            dst[i] = (a[i] - b[i]) * scale;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AddInto(ReadOnlySpan<float> x, Span<float> acc) => Add(acc, x, acc);
}
