using Mmae.Kernels;

namespace Mmae.Engine;

// The VAE's pieces. p = batch rows, m = latent width; mu, logVar, eps, z: (p, m).
// Images: (p, ...) with d = Cols elements per sample. Kernels and formulas: Kernels/*/Vae.cs.

/// <summary>Which reconstruction term a VAE (or an autoencoder) trains with.</summary>
public enum ReconstructionLoss
{
    /// <summary>Squared error summed over each sample, averaged over the batch.</summary>
    SquaredError,

    /// <summary>Binary cross-entropy summed over each sample, averaged over the batch; for
    /// binary images scaled to [−1, 1] and a decoder ending in Tanh.</summary>
    BinaryCrossEntropy,
}

public static partial class Ops
{
    /// <summary>The reparameterisation trick: z = mu + exp(½·logVar)·eps.</summary>
    /// <param name="mu">Means, (p, m).</param>
    /// <param name="logVar">Log-variances, (p, m).</param>
    /// <param name="eps">Standard normal noise, (p, m), for example from
    /// <see cref="GaussianNoise"/>; a constant that receives no gradient.</param>
    /// <exception cref="ArgumentException">Shapes or backends differ.</exception>
    public static Tensor Reparameterize(Tensor mu, Tensor logVar, Tensor eps)
    {
        Check.SameShape(nameof(Reparameterize), mu, logVar);
        Check.SameShape(nameof(Reparameterize), mu, eps);
        var be = mu.Backend;
        var z = Tensor.Empty(be, mu.Shape);
        be.Reparameterize(mu.Data, logVar.Data, eps.Data, z.Data);

        // dmu = dz; dlogVar = ½·dz·eps·exp(½·logVar).
        return Autograd.Record(z, nameof(Reparameterize), [mu, logVar], dz =>
        {
            if (logVar.RequiresGrad)
            {
                var dLogVar = Workspace.Rent(be, logVar.Length);
                be.ReparameterizeBackward(logVar.Data, eps.Data, dz, dLogVar);
                Autograd.Accumulate(logVar, dLogVar, owned: true);
            }

            Autograd.Accumulate(mu, dz, owned: false);
        });
    }

    /// <summary>
    /// A tensor of independent standard normal draws from <paramref name="rng"/>, in row-major
    /// order, so a seeded run draws the same noise every time.
    /// </summary>
    /// <remarks>Inside a <see cref="Workspace"/> step its memory is recycled, like a batch's.
    /// </remarks>
    /// <exception cref="ArgumentException">A dimension is negative.</exception>
    public static Tensor GaussianNoise(IBackend backend, Rng rng, params int[] shape)
    {
        var host = new float[ShapeUtil.Count(shape)];
        for (int i = 0; i < host.Length; i++)
        {
            host[i] = (float)rng.NextGaussian();
        }

        return Tensor.Input(backend, host, shape);
    }
}

public static partial class Losses
{
    /// <summary>
    /// KL divergence of N(mu, diag(exp(logVar))) from N(0, I), summed over the latent
    /// dimensions of each sample and averaged over the batch:
    /// −1/(2p)·Σ_ij (1 + logVar_ij − mu_ij² − exp(logVar_ij)).
    /// </summary>
    /// <param name="mu">Means, (p, m).</param>
    /// <param name="logVar">Log-variances, (p, m).</param>
    /// <exception cref="ArgumentException">Not matrices, shapes or backends differ, or the
    /// batch is empty.</exception>
    public static Tensor KlDivergence(Tensor mu, Tensor logVar)
    {
        Check.Matrix(nameof(KlDivergence), mu, "means");
        Check.SameShape(nameof(KlDivergence), mu, logVar);
        NonEmptyBatch(nameof(KlDivergence), mu);
        var be = mu.Backend;
        int p = mu.Rows;
        var loss = Tensor.Empty(be, 1);
        be.KlDivergenceForward(mu.Data, logVar.Data, p, loss.Data);

        // dmu = mu/p, dlogVar = (exp(logVar) − 1)/(2p), both times dLoss.
        return Autograd.Record(loss, nameof(KlDivergence), [mu, logVar], dLoss =>
        {
            var dMu = Workspace.Rent(be, mu.Length);
            var dLogVar = Workspace.Rent(be, logVar.Length);
            be.KlDivergenceBackward(mu.Data, logVar.Data, p, dLoss, dMu, dLogVar);
            Autograd.Accumulate(mu, dMu, owned: true);
            Autograd.Accumulate(logVar, dLogVar, owned: true);
        });
    }

    /// <summary>
    /// Squared error summed over each sample and averaged over the batch:
    /// 1/p·Σ (prediction − target)², p = the first dimension.
    /// </summary>
    /// <remarks>Equals <see cref="Mse"/> times the elements per sample, and is computed so
    /// (the MSE kernels, then a scale), so both arguments receive gradients.</remarks>
    /// <exception cref="ArgumentException">Shapes or backends differ, the tensors have fewer
    /// than two dimensions, or the batch is empty.</exception>
    public static Tensor SumSquaredError(Tensor prediction, Tensor target)
    {
        Check.SameShape(nameof(SumSquaredError), prediction, target);
        Batched(nameof(SumSquaredError), prediction);
        return Mse(prediction, target) * prediction.Cols;
    }

    /// <summary>
    /// Binary cross-entropy for a decoder that ends in Tanh, on images scaled to [−1, 1]:
    /// of q = (1 + tanh a)/2 against t = (1 + target)/2, summed over each sample and averaged
    /// over the batch, computed from the pre-Tanh activations a.
    /// </summary>
    /// <remarks>
    /// Since (1 + tanh a)/2 = σ(2a), the loss is the logit form
    /// 1/p·Σ softplus(2a) − (1 + target)·a, which needs no clamping: it stays finite and keeps
    /// its gradient (tanh a − target)/p where tanh a has saturated to ±1 in float. It is 0 only
    /// for binary targets (otherwise its minimum is the entropy of t). Targets outside [−1, 1]
    /// are not rejected (checking would copy them from the device) but make the loss
    /// unbounded below.
    /// </remarks>
    /// <param name="preTanh">The decoder's output before its final Tanh, (p, ...).</param>
    /// <param name="target">The images in [−1, 1], same shape; receives no gradient.</param>
    /// <exception cref="ArgumentException">Shapes or backends differ, the tensors have fewer
    /// than two dimensions, or the batch is empty.</exception>
    public static Tensor BinaryCrossEntropyTanh(Tensor preTanh, Tensor target)
    {
        Check.SameShape(nameof(BinaryCrossEntropyTanh), preTanh, target);
        Batched(nameof(BinaryCrossEntropyTanh), preTanh);
        var be = preTanh.Backend;
        int p = preTanh.Rows;
        var loss = Tensor.Empty(be, 1);
        be.BinaryCrossEntropyTanhForward(preTanh.Data, target.Data, p, loss.Data);

        // da = (tanh a − target)/p · dLoss.
        return Autograd.Record(loss, nameof(BinaryCrossEntropyTanh), [preTanh], dLoss =>
        {
            var da = Workspace.Rent(be, preTanh.Length);
            be.BinaryCrossEntropyTanhBackward(preTanh.Data, target.Data, p, dLoss, da);
            Autograd.Accumulate(preTanh, da, owned: true);
        });
    }

    private static void Batched(string op, Tensor t)
    {
        if (t.Shape.Length < 2)
        {
            throw new ArgumentException(
                $"{op}: expected a batch (samples, ...), got shape {ShapeUtil.Format(t.Shape)}. "
                + "Add a leading batch dimension.");
        }

        NonEmptyBatch(op, t);
    }

    private static void NonEmptyBatch(string op, Tensor t)
    {
        if (t.Rows < 1)
        {
            throw new ArgumentException(
                $"{op}: expected at least one sample, got shape {ShapeUtil.Format(t.Shape)}.");
        }
    }
}
