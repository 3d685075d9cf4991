namespace Mmae.Engine;

/// <summary>Which pairwise distances the manifold-matching loss compares.</summary>
public enum MatchDistance
{
    /// <summary>D_ij = ||x_i − x_j||², the method's definition.</summary>
    Squared,

    /// <summary>D_ij = ||x_i − x_j||.</summary>
    Euclidean,
}

/// <summary>Scalar losses; each returns a one-element tensor.</summary>
public static partial class Losses
{
    /// <summary>mean((prediction − target)²) over all elements.</summary>
    /// <exception cref="ArgumentException">Shapes differ.</exception>
    public static Tensor Mse(Tensor prediction, Tensor target)
    {
        Check.SameShape(nameof(Mse), prediction, target);
        var be = prediction.Backend;
        var loss = Tensor.Empty(be, 1);
        be.MseForward(prediction.Data, target.Data, loss.Data);

        // d/da = 2(a − b)/n, d/db = −2(a − b)/n.
        return Autograd.Record(loss, nameof(Mse), [prediction, target], dLoss =>
        {
            var da = Workspace.Rent(be, prediction.Length);
            be.MseBackward(prediction.Data, target.Data, dLoss, da);
            if (target.RequiresGrad)
            {
                var db = Workspace.RentZeroed(be, target.Length);
                be.Axpy(-1f, da, db);
                Autograd.Accumulate(target, db, owned: true);
            }

            Autograd.Accumulate(prediction, da, owned: true);
        });
    }

    /// <summary>
    /// The manifold-matching loss L_mm = (1/p²)·||D̃^E − D̃^Z||²_F between latent codes z (p×m)
    /// and reference rows e (p×l), D the squared pairwise distances, D̃ = D/||D||_F.
    /// </summary>
    /// <remarks>
    /// The reference is a constant: it receives no gradient. m and l may differ. The loss is
    /// invariant to scaling z, and 0 when z is any scaled isometric copy of e.
    /// </remarks>
    /// <param name="z">Latent codes, (p, m).</param>
    /// <param name="e">Reference rows, (p, l).</param>
    /// <param name="distance">Squared distances (the method's definition, computed in time
    /// linear in p) or plain Euclidean distances (O(p²) time, tiled).</param>
    /// <exception cref="ArgumentException">Row counts differ or there are fewer than 2 rows.</exception>
    public static Tensor ManifoldMatch(Tensor z, Tensor e, MatchDistance distance = MatchDistance.Squared)
    {
        Check.Matrix(nameof(ManifoldMatch), z, "latent codes");
        Check.Matrix(nameof(ManifoldMatch), e, "reference rows");
        Check.SameBackend(nameof(ManifoldMatch), z, e);
        if (z.Rows != e.Rows)
        {
            throw new ArgumentException(
                $"ManifoldMatch: latent codes have {z.Rows} rows, reference has {e.Rows}; "
                + "each sample needs its own reference row.");
        }

        if (z.Rows < 2)
        {
            throw new ArgumentException("ManifoldMatch: needs at least 2 points, got 1.");
        }

        var be = z.Backend;
        int p = z.Rows, m = z.Cols, l = e.Cols;
        var loss = Tensor.Empty(be, 1);
        bool squared = distance == MatchDistance.Squared;
        if (squared)
        {
            be.MatchLossForward(z.Data, e.Data, p, m, l, loss.Data);
        }
        else
        {
            be.EuclideanMatchLossForward(z.Data, e.Data, p, m, l, loss.Data);
        }

        return Autograd.Record(loss, nameof(ManifoldMatch), [z], dLoss =>
        {
            var dz = Workspace.Rent(be, z.Length);
            if (squared)
            {
                be.MatchLossBackward(z.Data, e.Data, p, m, l, dLoss, dz);
            }
            else
            {
                be.EuclideanMatchLossBackward(z.Data, e.Data, p, m, l, dLoss, dz);
            }

            Autograd.Accumulate(z, dz, owned: true);
        });
    }
}
