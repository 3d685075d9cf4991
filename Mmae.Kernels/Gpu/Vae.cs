using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace Mmae.Kernels.Gpu;

// VAE kernels; formulas in Scalar/Vae.cs. p = rows; mu, lv, eps, z: (p, m); a, x: (p, d).
// Elementwise kernels run one float thread per element. The two losses are sums: each term is
// evaluated in double (it cancels where training drives it, see Cpu/Vae.cs) by the
// deterministic two-stage reduction of Reduction.cs, then scaled by a host-side factor.
public sealed partial class GpuBackend
{
    // The VAE terms Reduction.cs's stage 1 sums, numbered after its own.
    private const int TermKl = 3;
    private const int TermBce = 4;

    private Action<
        AcceleratorStream,
        Index1D,
        ArrayView<float>,
        ArrayView<float>,
        ArrayView<float>,
        ArrayView<float>> _reparameterize = null!;
    private Action<
        AcceleratorStream,
        Index1D,
        ArrayView<float>,
        ArrayView<float>,
        ArrayView<float>,
        ArrayView<float>> _reparameterizeBackward = null!;
    private Action<AcceleratorStream, KernelConfig, ArrayView<double>, double, ArrayView<float>>
        _scaleFinish = null!;
    private Action<
        AcceleratorStream,
        Index1D,
        ArrayView<float>,
        ArrayView<float>,
        ArrayView<float>,
        int,
        ArrayView<float>,
        ArrayView<float>> _klBackward = null!;
    private Action<
        AcceleratorStream,
        Index1D,
        ArrayView<float>,
        ArrayView<float>,
        ArrayView<float>,
        int,
        ArrayView<float>> _bceBackward = null!;

    /// <inheritdoc/>
    public void Reparameterize(
        DeviceBuffer mu,
        DeviceBuffer logVar,
        DeviceBuffer eps,
        DeviceBuffer z) =>
        Launch(z.Length, _reparameterize, V(mu), V(logVar), V(eps), V(z));

    /// <inheritdoc/>
    public void ReparameterizeBackward(
        DeviceBuffer logVar,
        DeviceBuffer eps,
        DeviceBuffer dz,
        DeviceBuffer dLogVar) =>
        Launch(dLogVar.Length, _reparameterizeBackward, V(logVar), V(eps), V(dz), V(dLogVar));

    /// <inheritdoc/>
    public void KlDivergenceForward(
        DeviceBuffer mu,
        DeviceBuffer logVar,
        int rows,
        DeviceBuffer loss) =>
        VaeSum(TermKl, V(mu), V(logVar), mu.Length, -0.5 / rows, V(loss));

    /// <inheritdoc/>
    public void KlDivergenceBackward(
        DeviceBuffer mu,
        DeviceBuffer logVar,
        int rows,
        DeviceBuffer dLoss,
        DeviceBuffer dMu,
        DeviceBuffer dLogVar)
    {
        if (mu.Length > 0)
        {
            _klBackward(_stream, mu.Length, V(mu), V(logVar), V(dLoss), rows, V(dMu), V(dLogVar));
        }
    }

    /// <inheritdoc/>
    public void BinaryCrossEntropyTanhForward(
        DeviceBuffer a,
        DeviceBuffer x,
        int rows,
        DeviceBuffer loss) =>
        VaeSum(TermBce, V(a), V(x), a.Length, 1.0 / rows, V(loss));

    /// <inheritdoc/>
    public void BinaryCrossEntropyTanhBackward(
        DeviceBuffer a,
        DeviceBuffer x,
        int rows,
        DeviceBuffer dLoss,
        DeviceBuffer da)
    {
        if (a.Length > 0)
        {
            _bceBackward(_stream, a.Length, V(a), V(x), V(dLoss), rows, V(da));
        }
    }

    private static GpuKernel[] VaeKernels =>
    [
        Define(ReparameterizeKernel, static b => ref b._reparameterize),
        Define(ReparameterizeBackwardKernel, static b => ref b._reparameterizeBackward),
        Define(ScaleFinishKernel, static b => ref b._scaleFinish),
        Define(KlBackwardKernel, static b => ref b._klBackward),
        Define(BceBackwardKernel, static b => ref b._bceBackward),
    ];

    /// <summary>Queues loss[0] = factor·Σ term(a_i, b_i) over n elements.</summary>
    private void VaeSum(
        int term,
        ArrayView<float> a,
        ArrayView<float> b,
        int n,
        double factor,
        ArrayView<float> loss)
    {
        ArrayView<double> sums = Scratch("vae", 1);
        Sum(term, a, b, n, sums, 0);
        _scaleFinish(_stream, Groups(1), sums, factor, loss);
    }

    // z = mu + exp(½·lv)·eps
    internal static void ReparameterizeKernel(
        Index1D i,
        ArrayView<float> mu,
        ArrayView<float> lv,
        ArrayView<float> eps,
        ArrayView<float> z) =>
        z[i] = mu[i] + XMath.Exp(0.5f * lv[i]) * eps[i];

    // dlv = ½·dz·eps·exp(½·lv)
    internal static void ReparameterizeBackwardKernel(
        Index1D i,
        ArrayView<float> lv,
        ArrayView<float> eps,
        ArrayView<float> dz,
        ArrayView<float> dlv) =>
        dlv[i] = 0.5f * dz[i] * eps[i] * XMath.Exp(0.5f * lv[i]);

    // The per-element VAE terms of Reduction.cs's stage 1, in double:
    // KL 1 + lv − mu² − exp(lv) with (a, b) = (mu, lv); BCE with (a, b) = (a, x).
    internal static double VaeTerm(int term, double a, double b) =>
        term == TermKl ? 1.0 + b - a * a - XMath.Exp(b) : BceTerm(a, b);

    // softplus(2a) − (1 + x)·a with softplus(v) = max(v, 0) + log1p(e^−|v|), log1p by
    // Kahan's trick (XMath has no log1p).
    private static double BceTerm(double a, double x)
    {
        double v = 2.0 * a;
        double u = XMath.Exp(-XMath.Abs(v));
        double w = 1.0 + u;
        double log1p = w == 1.0 ? u : XMath.Log(w) * u / (w - 1.0);
        return XMath.Max(v, 0.0) + log1p - (1.0 + x) * a;
    }

    internal static void ScaleFinishKernel(
        ArrayView<double> sums,
        double factor,
        ArrayView<float> loss)
    {
        if (Group.IdxX == 0)
        {
            loss[0] = (float)(sums[0] * factor);
        }
    }

    // dmu = s·mu, dlv = ½·s·(exp(lv) − 1), s = dLoss/rows formed in float as the CPU does.
    internal static void KlBackwardKernel(
        Index1D i,
        ArrayView<float> mu,
        ArrayView<float> lv,
        ArrayView<float> dLoss,
        int rows,
        ArrayView<float> dmu,
        ArrayView<float> dlv)
    {
        float s = dLoss[0] / rows;
        dmu[i] = mu[i] * s;
        dlv[i] = (XMath.Exp(lv[i]) - 1f) * (0.5f * s);
    }

    // da = (tanh a − x)·s, s = dLoss/rows
    internal static void BceBackwardKernel(
        Index1D i,
        ArrayView<float> a,
        ArrayView<float> x,
        ArrayView<float> dLoss,
        int rows,
        ArrayView<float> da)
    {
        float s = dLoss[0] / rows;
        da[i] = (XMath.Tanh(a[i]) - x[i]) * s;
    }
}
