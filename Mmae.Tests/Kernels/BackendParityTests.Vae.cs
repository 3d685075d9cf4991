using Mmae.Kernels;
using Xunit;

namespace Mmae.Tests.Kernels;

// The VAE kernels. mu, lv, eps: (n) latent entries; a: pre-Tanh activations, x: targets, (n).
// The loss kernels divide by a row count that need not divide n; 1 + n % 5 varies it.
public abstract partial class BackendParityTests
{
    [Fact]
    public void Reparameterize_EveryLength_MatchesOracle()
    {
        foreach (int n in ElementwiseLengths)
        {
            var rng = new Random(n);
            double[] mu = TestArrays.Uniform(rng, n, -2.0, 2.0);
            double[] lv = TestArrays.Uniform(rng, n, -4.0, 3.0);
            double[] eps = TestArrays.Uniform(rng, n, -2.5, 2.5);
            Twin mus = Upload(mu);
            Twin lvs = Upload(lv);
            Twin epss = Upload(eps);
            Twin z = Upload(TestArrays.Constant(n, double.NaN));

            Run(b => b.Reparameterize(mus[b], lvs[b], epss[b], z[b]));

            // exp (a few ulps), a product and a sum, on |mu| + σ·|eps|.
            double[] scale = Map(n, i => Math.Abs(mu[i]) + Math.Exp(0.5 * lv[i]) * Math.Abs(eps[i]));
            AssertMatches(z, $"Reparameterize, length {n}", 6, scale);
        }
    }

    [Fact]
    public void ReparameterizeBackward_EveryLength_MatchesOracle()
    {
        foreach (int n in ElementwiseLengths)
        {
            var rng = new Random(n + 1);
            Twin lv = Upload(TestArrays.Uniform(rng, n, -4.0, 3.0));
            Twin eps = Upload(TestArrays.Uniform(rng, n, -2.5, 2.5));
            Twin dz = Upload(TestArrays.Uniform(rng, n, -1.0, 1.0));
            Twin dlv = Upload(TestArrays.Constant(n, double.NaN));

            Run(b => b.ReparameterizeBackward(lv[b], eps[b], dz[b], dlv[b]));

            // A product of four factors, one an exp: relative error only.
            AssertMatches(dlv, $"ReparameterizeBackward, length {n}", 6, Abs(Expected(dlv)));
        }
    }

    [Fact]
    public void KlDivergence_EveryLength_MatchesOracle()
    {
        foreach (int n in ElementwiseLengths)
        {
            var rng = new Random(n + 2);
            int rows = 1 + n % 5;
            double[] mu = TestArrays.Uniform(rng, n, -2.0, 2.0);
            double[] lv = TestArrays.Uniform(rng, n, -4.0, 3.0);
            Twin mus = Upload(mu);
            Twin lvs = Upload(lv);
            Twin loss = Upload([7.0]);
            Twin dLoss = Upload(TestArrays.Uniform(rng, 1, 0.5, 2.0));
            Twin dMu = Upload(TestArrays.Constant(n, double.NaN));
            Twin dLv = Upload(TestArrays.Constant(n, double.NaN));

            Run(b => b.KlDivergenceForward(mus[b], lvs[b], rows, loss[b]));
            Run(b => b.KlDivergenceBackward(mus[b], lvs[b], rows, dLoss[b], dMu[b], dLv[b]));

            // Forward: n terms of magnitude 1 + |lv| + mu² + exp(lv), summed (the fast
            // backends work in double; float's u per term is a generous ceiling).
            double termSum = Enumerable.Range(0, n)
                .Sum(i => 1.0 + Math.Abs(lv[i]) + mu[i] * mu[i] + Math.Exp(lv[i]));
            AssertMatches(loss, $"KlDivergenceForward, length {n}", n + 3, [0.5 * termSum / rows]);

            // Backward: a product for dmu; exp(lv) − 1 cancels near lv = 0, so its rounding is
            // relative to exp(lv) + 1, not to the result.
            double s = Expected(dLoss)[0] / rows;
            AssertMatches(dMu, $"KlDivergenceBackward dMu, length {n}", 3, Abs(Expected(dMu)));
            double[] lvScale = Map(n, i => 0.5 * Math.Abs(s) * (Math.Exp(lv[i]) + 1.0));
            AssertMatches(dLv, $"KlDivergenceBackward dLogVar, length {n}", 6, lvScale);
        }
    }

    [Fact]
    public void BinaryCrossEntropyTanh_EveryLength_MatchesOracle()
    {
        foreach (int n in ElementwiseLengths)
        {
            // a across the linear middle and deep into saturation (tanh(±12) is ±1 in float);
            // targets binary (±1) for even i, anywhere in [−1, 1] for odd i.
            var rng = new Random(n + 3);
            int rows = 1 + n % 5;
            double[] a = TestArrays.Uniform(rng, n, -12.0, 12.0);
            double[] x = TestArrays.Uniform(rng, n, -1.0, 1.0)
                .Select((v, i) => i % 2 == 1 ? v : Math.Sign(v) >= 0 ? 1.0 : -1.0)
                .ToArray();
            Twin aa = Upload(a);
            Twin xs = Upload(x);
            Twin loss = Upload([7.0]);
            Twin dLoss = Upload(TestArrays.Uniform(rng, 1, 0.5, 2.0));
            Twin da = Upload(TestArrays.Constant(n, double.NaN));

            Run(b => b.BinaryCrossEntropyTanhForward(aa[b], xs[b], rows, loss[b]));
            Run(b => b.BinaryCrossEntropyTanhBackward(aa[b], xs[b], rows, dLoss[b], da[b]));

            // Forward: softplus(2a) − (1 + x)·a cancels for confident correct outputs, so
            // each term's rounding is relative to |2a| + log 2 + |(1 + x)·a|.
            double termSum = Enumerable.Range(0, n)
                .Sum(i => 2.0 * Math.Abs(a[i]) + Math.Log(2.0) + Math.Abs((1.0 + x[i]) * a[i]));
            AssertMatches(loss, $"BinaryCrossEntropyTanhForward, length {n}", n + 3, [termSum / rows]);

            // Backward: tanh (a vectorised one loses a few units of 1 near 0, see the Tanh
            // test), a subtraction and a scaling, all on |s|·(1 + |x|).
            double s = Expected(dLoss)[0] / rows;
            double[] scale = Map(n, i => Math.Abs(s) * (1.0 + Math.Abs(x[i])));
            AssertMatches(da, $"BinaryCrossEntropyTanhBackward, length {n}", 6, scale);
        }
    }
}
