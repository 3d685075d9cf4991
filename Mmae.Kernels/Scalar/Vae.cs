using System.Runtime.CompilerServices;

namespace Mmae.Kernels.Scalar;

// VAE kernels. p = rows (samples); mu, logVar (lv), eps, z: (p, m), n = p·m elements;
// a: decoder pre-Tanh activations and x: targets in [−1, 1], both (p, d); loss, dLoss: (1).
//   Reparameterisation  z = mu + exp(½·lv)·eps,              ∂z/∂lv = ½·exp(½·lv)·eps.
//   KL to N(0, I)       L = −1/(2p)·Σ (1 + lv − mu² − exp(lv)),
//                       ∂L/∂mu = mu/p,                       ∂L/∂lv = (exp(lv) − 1)/(2p).
//   BCE of q = (1 + tanh a)/2 = σ(2a) against t = (1 + x)/2:
//                       L = 1/p·Σ softplus(2a) − (1 + x)·a,  ∂L/∂a = (tanh a − x)/p.
public sealed partial class ScalarBackend
{
    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A buffer is not this backend's, or the lengths
    /// differ.</exception>
    public void Reparameterize(
        DeviceBuffer mu,
        DeviceBuffer logVar,
        DeviceBuffer eps,
        DeviceBuffer z)
    {
        double[] zd = Own(z);
        double[] m = Own(mu, zd.Length);
        double[] lv = Own(logVar, zd.Length);
        double[] e = Own(eps, zd.Length);
        for (int i = 0; i < zd.Length; i++)
        {
            zd[i] = m[i] + Math.Exp(0.5 * lv[i]) * e[i];
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A buffer is not this backend's, or the lengths
    /// differ.</exception>
    public void ReparameterizeBackward(
        DeviceBuffer logVar,
        DeviceBuffer eps,
        DeviceBuffer dz,
        DeviceBuffer dLogVar)
    {
        double[] dlv = Own(dLogVar);
        double[] lv = Own(logVar, dlv.Length);
        double[] e = Own(eps, dlv.Length);
        double[] g = Own(dz, dlv.Length);
        for (int i = 0; i < dlv.Length; i++)
        {
            dlv[i] = 0.5 * g[i] * e[i] * Math.Exp(0.5 * lv[i]);
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A buffer is not this backend's, the lengths of
    /// <paramref name="mu"/> and <paramref name="logVar"/> differ, or <paramref name="loss"/>
    /// does not hold one element.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> is below 1.
    /// </exception>
    public void KlDivergenceForward(
        DeviceBuffer mu,
        DeviceBuffer logVar,
        int rows,
        DeviceBuffer loss)
    {
        double[] m = Own(mu);
        double[] lv = Own(logVar, m.Length);
        double[] l = Own(loss, 1);
        Positive(rows);

        double sum = 0.0;
        for (int i = 0; i < m.Length; i++)
        {
            sum += 1.0 + lv[i] - m[i] * m[i] - Math.Exp(lv[i]);
        }

        l[0] = -0.5 * sum / rows;
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A buffer is not this backend's, the lengths
    /// differ, or <paramref name="dLoss"/> does not hold one element.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> is below 1.
    /// </exception>
    public void KlDivergenceBackward(
        DeviceBuffer mu,
        DeviceBuffer logVar,
        int rows,
        DeviceBuffer dLoss,
        DeviceBuffer dMu,
        DeviceBuffer dLogVar)
    {
        double[] m = Own(mu);
        double[] lv = Own(logVar, m.Length);
        double dL = Own(dLoss, 1)[0];
        double[] dm = Own(dMu, m.Length);
        double[] dlv = Own(dLogVar, m.Length);
        Positive(rows);

        for (int i = 0; i < m.Length; i++)
        {
            dm[i] = dL * m[i] / rows;
            dlv[i] = dL * 0.5 * (Math.Exp(lv[i]) - 1.0) / rows;
        }
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A buffer is not this backend's, the lengths of
    /// <paramref name="a"/> and <paramref name="x"/> differ, or <paramref name="loss"/> does not
    /// hold one element.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> is below 1.
    /// </exception>
    public void BinaryCrossEntropyTanhForward(
        DeviceBuffer a,
        DeviceBuffer x,
        int rows,
        DeviceBuffer loss)
    {
        double[] ad = Own(a);
        double[] xd = Own(x, ad.Length);
        double[] l = Own(loss, 1);
        Positive(rows);

        double sum = 0.0;
        for (int i = 0; i < ad.Length; i++)
        {
            sum += Softplus(2.0 * ad[i]) - (1.0 + xd[i]) * ad[i];
        }

        l[0] = sum / rows;
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A buffer is not this backend's, the lengths
    /// differ, or <paramref name="dLoss"/> does not hold one element.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> is below 1.
    /// </exception>
    public void BinaryCrossEntropyTanhBackward(
        DeviceBuffer a,
        DeviceBuffer x,
        int rows,
        DeviceBuffer dLoss,
        DeviceBuffer da)
    {
        double[] ad = Own(a);
        double[] xd = Own(x, ad.Length);
        double dL = Own(dLoss, 1)[0];
        double[] dad = Own(da, ad.Length);
        Positive(rows);

        for (int i = 0; i < ad.Length; i++)
        {
            dad[i] = dL * (Math.Tanh(ad[i]) - xd[i]) / rows;
        }
    }

    // softplus(v) = log(1 + e^v) = max(v, 0) + log1p(e^−|v|): never overflows, and keeps full
    // relative precision where e^v is tiny.
    private static double Softplus(double v) => Math.Max(v, 0.0) + Log1P(Math.Exp(-Math.Abs(v)));

    // log(1 + u) for u ≥ 0 without losing u below the rounding of 1 + u: w − 1 is exactly the
    // part of u that survived, so log(w)·u/(w − 1) restores the rest (Kahan's trick).
    private static double Log1P(double u)
    {
        double w = 1.0 + u;
        return w == 1.0 ? u : Math.Log(w) * u / (w - 1.0);
    }

    /// <summary>Throws unless a row count is at least 1.</summary>
    private static void Positive(
        int rows,
        [CallerArgumentExpression(nameof(rows))] string name = "",
        [CallerMemberName] string operation = "")
    {
        if (rows < 1)
        {
            throw new ArgumentOutOfRangeException(
                name,
                rows,
                $"ScalarBackend.{operation}: expected {name} >= 1 (the batch size), got {rows}.");
        }
    }
}
