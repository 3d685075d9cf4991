namespace Mmae.Engine;

// p = batch rows, m = latent dimension, l = reference dimension; z: (p, m), e: (p, l).
public static partial class Losses
{
    /// <summary>
    /// The GRAE geometric loss (Duque et al., "Geometry Regularized Autoencoders"): the mean
    /// over samples of ||z_i − e_i||², latent codes z (p×m) against reference rows e (p×l),
    /// which needs m = l. A training objective adds it times λ.
    /// </summary>
    /// <remarks>
    /// Unlike <see cref="ManifoldMatch"/>, this compares coordinates, not distances, so it is
    /// neither scale- nor rotation-invariant: z is pulled onto e itself. The reference receives
    /// no gradient. Equal to m times <see cref="Mse"/>(z, e).
    /// </remarks>
    /// <param name="z">Latent codes, (p, m).</param>
    /// <param name="e">Reference rows, (p, l).</param>
    /// <exception cref="ArgumentException">z or e is not a matrix, they live on different
    /// backends, their row counts differ, there are no rows, or m ≠ l.</exception>
    public static Tensor Geometric(Tensor z, Tensor e)
    {
        Check.LatentAndReference(nameof(Geometric), z, e);
        if (z.Rows < 1)
        {
            throw new ArgumentException("Geometric: needs at least 1 point, got 0.");
        }

        if (z.Cols != e.Cols)
        {
            throw new ArgumentException(
                $"Geometric: latent dimension m = {z.Cols} differs from reference dimension l = {e.Cols}; "
                + "GRAE compares coordinates, so choose a reference with l = m.");
        }

        // mean_i ||z_i − e_i||² = m · mean over all p·m elements of (z − e)².
        Tensor constant = e.RequiresGrad ? Detach(e) : e;
        return Ops.Scale(Mse(z, constant), z.Cols);
    }

    // The same data as t without its gradient flag (a view: no copy).
    private static Tensor Detach(Tensor t) => new(t.Data, t.Shape);
}
