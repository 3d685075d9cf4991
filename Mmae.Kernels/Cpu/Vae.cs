using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Mmae.Kernels.Cpu;

// VAE kernels; formulas in Scalar/Vae.cs. p = rows; mu, lv, eps, z: (p, m); a, x: (p, d).
// Elementwise parts run in float; the two loss sums evaluate each term in double (widened
// lanes), because 1 + lv − exp(lv) and softplus(2a) − (1 + x)·a cancel where training drives
// them (lv ≈ 0, a confident decoder), and float would leave only the rounding noise there.
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void Reparameterize(
        DeviceBuffer mu,
        DeviceBuffer logVar,
        DeviceBuffer eps,
        DeviceBuffer z)
    {
        float[] pm = F(mu), pl = F(logVar), pe = F(eps), pz = F(z);
        ForChunks(pz.Length, (s, e) => VaeElementwise.Reparameterize(
            pm.AsSpan(s..e), pl.AsSpan(s..e), pe.AsSpan(s..e), pz.AsSpan(s..e)));
    }

    /// <inheritdoc/>
    public void ReparameterizeBackward(
        DeviceBuffer logVar,
        DeviceBuffer eps,
        DeviceBuffer dz,
        DeviceBuffer dLogVar)
    {
        float[] pl = F(logVar), pe = F(eps), pg = F(dz), pd = F(dLogVar);
        ForChunks(pd.Length, (s, e) => VaeElementwise.ReparameterizeBackward(
            pl.AsSpan(s..e), pe.AsSpan(s..e), pg.AsSpan(s..e), pd.AsSpan(s..e)));
    }

    /// <inheritdoc/>
    public void KlDivergenceForward(
        DeviceBuffer mu,
        DeviceBuffer logVar,
        int rows,
        DeviceBuffer loss)
    {
        float[] pm = F(mu), pl = F(logVar);
        double sum = SumChunks(pm.Length, (s, e) =>
            VaeElementwise.KlTermSum(pm.AsSpan(s..e), pl.AsSpan(s..e)));
        F(loss)[0] = (float)(-0.5 * sum / rows);
    }

    /// <inheritdoc/>
    public void KlDivergenceBackward(
        DeviceBuffer mu,
        DeviceBuffer logVar,
        int rows,
        DeviceBuffer dLoss,
        DeviceBuffer dMu,
        DeviceBuffer dLogVar)
    {
        float[] pm = F(mu), pl = F(logVar), pdm = F(dMu), pdl = F(dLogVar);
        float scale = F(dLoss)[0] / rows;
        ForChunks(pm.Length, (s, e) => VaeElementwise.KlBackward(
            pm.AsSpan(s..e), pl.AsSpan(s..e), scale, pdm.AsSpan(s..e), pdl.AsSpan(s..e)));
    }

    /// <inheritdoc/>
    public void BinaryCrossEntropyTanhForward(
        DeviceBuffer a,
        DeviceBuffer x,
        int rows,
        DeviceBuffer loss)
    {
        float[] pa = F(a), px = F(x);
        double sum = SumChunks(pa.Length, (s, e) =>
            VaeElementwise.BceTermSum(pa.AsSpan(s..e), px.AsSpan(s..e)));
        F(loss)[0] = (float)(sum / rows);
    }

    /// <inheritdoc/>
    public void BinaryCrossEntropyTanhBackward(
        DeviceBuffer a,
        DeviceBuffer x,
        int rows,
        DeviceBuffer dLoss,
        DeviceBuffer da)
    {
        float[] pa = F(a), px = F(x), pd = F(da);
        float scale = F(dLoss)[0] / rows;

        // da = (tanh a − x)·scale: tanh into da, then the scaled difference in place.
        ForChunks(pd.Length, (s, e) =>
        {
            Elementwise.Tanh(pa.AsSpan(s..e), pd.AsSpan(s..e));
            Elementwise.ScaledDifference(pd.AsSpan(s..e), px.AsSpan(s..e), scale, pd.AsSpan(s..e));
        });
    }

    // Σ over [0, n) of chunk sums, added in chunk order so the thread count cannot change it.
    private double SumChunks(int n, Func<int, int, double> chunkSum)
    {
        var partial = new double[Math.Max((n + ElementChunk - 1) / ElementChunk, 1)];
        ForChunks(n, (s, e) => partial[s / ElementChunk] = chunkSum(s, e));
        double sum = 0;
        foreach (double v in partial)
        {
            sum += v;
        }

        return sum;
    }
}

// Span kernels of the VAE ops: inputs first, destination last; 8 float lanes with a scalar tail.
internal static class VaeElementwise
{
    private const int W = 8;

    // z = mu + exp(½·lv)·eps
    public static void Reparameterize(
        ReadOnlySpan<float> mu,
        ReadOnlySpan<float> lv,
        ReadOnlySpan<float> eps,
        Span<float> z)
    {
        ref float pm = ref MemoryMarshal.GetReference(mu);
        ref float pl = ref MemoryMarshal.GetReference(lv);
        ref float pe = ref MemoryMarshal.GetReference(eps);
        ref float pz = ref MemoryMarshal.GetReference(z);
        var half = Vector256.Create(0.5f);
        int i = 0;
        for (; i <= z.Length - W; i += W)
        {
            Vector256<float> sigma = Vector256.Exp(Vector256.LoadUnsafe(ref pl, (nuint)i) * half);
            Vector256.FusedMultiplyAdd(
                    sigma,
                    Vector256.LoadUnsafe(ref pe, (nuint)i),
                    Vector256.LoadUnsafe(ref pm, (nuint)i))
                .StoreUnsafe(ref pz, (nuint)i);
        }

        for (; i < z.Length; i++)
        {
            z[i] = MathF.FusedMultiplyAdd(MathF.Exp(0.5f * lv[i]), eps[i], mu[i]);
        }
    }

    // dlv = ½·dz·eps·exp(½·lv)
    public static void ReparameterizeBackward(
        ReadOnlySpan<float> lv,
        ReadOnlySpan<float> eps,
        ReadOnlySpan<float> dz,
        Span<float> dlv)
    {
        ref float pl = ref MemoryMarshal.GetReference(lv);
        ref float pe = ref MemoryMarshal.GetReference(eps);
        ref float pg = ref MemoryMarshal.GetReference(dz);
        ref float pd = ref MemoryMarshal.GetReference(dlv);
        var half = Vector256.Create(0.5f);
        int i = 0;
        for (; i <= dlv.Length - W; i += W)
        {
            Vector256<float> sigma = Vector256.Exp(Vector256.LoadUnsafe(ref pl, (nuint)i) * half);
            Vector256<float> g = Vector256.LoadUnsafe(ref pg, (nuint)i);
            (half * g * Vector256.LoadUnsafe(ref pe, (nuint)i) * sigma)
                .StoreUnsafe(ref pd, (nuint)i);
        }

        for (; i < dlv.Length; i++)
        {
            dlv[i] = 0.5f * dz[i] * eps[i] * MathF.Exp(0.5f * lv[i]);
        }
    }

    // dmu = s·mu, dlv = ½·s·(exp(lv) − 1), s = dLoss/rows
    public static void KlBackward(
        ReadOnlySpan<float> mu,
        ReadOnlySpan<float> lv,
        float s,
        Span<float> dmu,
        Span<float> dlv)
    {
        ref float pm = ref MemoryMarshal.GetReference(mu);
        ref float pl = ref MemoryMarshal.GetReference(lv);
        ref float pdm = ref MemoryMarshal.GetReference(dmu);
        ref float pdl = ref MemoryMarshal.GetReference(dlv);
        var vs = Vector256.Create(s);
        var halfS = Vector256.Create(0.5f * s);
        int i = 0;
        for (; i <= mu.Length - W; i += W)
        {
            (Vector256.LoadUnsafe(ref pm, (nuint)i) * vs).StoreUnsafe(ref pdm, (nuint)i);
            ((Vector256.Exp(Vector256.LoadUnsafe(ref pl, (nuint)i)) - Vector256<float>.One) * halfS)
                .StoreUnsafe(ref pdl, (nuint)i);
        }

        for (; i < mu.Length; i++)
        {
            dmu[i] = mu[i] * s;
            dlv[i] = (MathF.Exp(lv[i]) - 1f) * (0.5f * s);
        }
    }

    // Σ (1 + lv − mu² − exp(lv)), each term in double.
    public static double KlTermSum(ReadOnlySpan<float> mu, ReadOnlySpan<float> lv) =>
        TermSum<KlTerm>(mu, lv);

    // Σ softplus(2a) − (1 + x)·a, each term in double.
    public static double BceTermSum(ReadOnlySpan<float> a, ReadOnlySpan<float> x) =>
        TermSum<BceTerm>(a, x);

    // Σ_i T(a_i, b_i) in double lanes; the tail runs as one zero-padded vector whose unused
    // lanes are masked out, so every element goes through the same code.
    private static double TermSum<T>(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
        where T : struct, IPairTerm
    {
        ref float pa = ref MemoryMarshal.GetReference(a);
        ref float pb = ref MemoryMarshal.GetReference(b);
        Vector256<double> acc = Vector256<double>.Zero;
        int i = 0;
        for (; i <= a.Length - W; i += W)
        {
            acc += Terms<T>(
                Vector256.LoadUnsafe(ref pa, (nuint)i), Vector256.LoadUnsafe(ref pb, (nuint)i), W);
        }

        if (i < a.Length)
        {
            Span<float> ta = stackalloc float[W];
            Span<float> tb = stackalloc float[W];
            ta.Clear();
            tb.Clear();
            a[i..].CopyTo(ta);
            b[i..].CopyTo(tb);
            acc += Terms<T>(Vector256.Create<float>(ta), Vector256.Create<float>(tb), a.Length - i);
        }

        return Vector256.Sum(acc);
    }

    // T over 8 float lanes widened to two double vectors, lanes from `lanes` on set to 0.
    private static Vector256<double> Terms<T>(Vector256<float> a, Vector256<float> b, int lanes)
        where T : struct, IPairTerm
    {
        (Vector256<double> aLo, Vector256<double> aHi) = Vector256.Widen(a);
        (Vector256<double> bLo, Vector256<double> bHi) = Vector256.Widen(b);
        Vector256<double> lo = T.Term(aLo, bLo);
        Vector256<double> hi = T.Term(aHi, bHi);
        if (lanes < W)
        {
            var lane = Vector256.Create(0.0, 1.0, 2.0, 3.0);
            var count = Vector256.Create((double)lanes);
            lo = Vector256.ConditionalSelect(Vector256.LessThan(lane, count), lo, Vector256<double>.Zero);
            hi = Vector256.ConditionalSelect(
                Vector256.LessThan(lane + Vector256.Create(4.0), count), hi, Vector256<double>.Zero);
        }

        return lo + hi;
    }

    private interface IPairTerm
    {
        static abstract Vector256<double> Term(Vector256<double> a, Vector256<double> b);
    }

    // 1 + lv − mu² − exp(lv) for (a, b) = (mu, lv).
    private readonly struct KlTerm : IPairTerm
    {
        public static Vector256<double> Term(Vector256<double> m, Vector256<double> l) =>
            Vector256<double>.One + l - m * m - Vector256.Exp(l);
    }

    // softplus(2a) − (1 + x)·a with softplus(v) = max(v, 0) + log1p(e^−|v|), log1p by Kahan's
    // trick as in Scalar/Vae.cs (the unselected lane of a w = 1 division is discarded).
    private readonly struct BceTerm : IPairTerm
    {
        public static Vector256<double> Term(Vector256<double> a, Vector256<double> x)
        {
            Vector256<double> v = a + a;
            Vector256<double> u = Vector256.Exp(-Vector256.Abs(v));
            Vector256<double> w = Vector256<double>.One + u;
            Vector256<double> log1p = Vector256.ConditionalSelect(
                Vector256.Equals(w, Vector256<double>.One),
                u,
                Vector256.Log(w) * u / (w - Vector256<double>.One));
            return Vector256.Max(v, Vector256<double>.Zero) + log1p - (Vector256<double>.One + x) * a;
        }
    }
}
