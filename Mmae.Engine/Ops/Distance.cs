namespace Mmae.Engine;

// p = points, d = dimension; x: (p, d); D: (p, p).
public static partial class Ops
{
    /// <summary>D_ij = ||x_i − x_j||² over the rows of x.</summary>
    public static Tensor PairwiseSquaredDistances(Tensor x)
    {
        Check.Matrix(nameof(PairwiseSquaredDistances), x, "points");
        var be = x.Backend;
        int p = x.Rows, d = x.Cols;
        var dist = Tensor.Empty(be, p, p);
        be.PairwiseSquaredDistances(x.Data, p, d, dist.Data);

        // dx_i = 2·Σ_j (dD_ij + dD_ji)(x_i − x_j).
        return Autograd.Record(dist, nameof(PairwiseSquaredDistances), [x], dD =>
        {
            var dx = Workspace.Rent(be, x.Length);
            be.PairwiseSquaredDistancesBackward(x.Data, dD, p, d, dx);
            Autograd.Accumulate(x, dx, owned: true);
        });
    }

    /// <summary>y = x / ||x||_F (y = 0 when x = 0).</summary>
    public static Tensor FrobeniusNormalize(Tensor x)
    {
        var be = x.Backend;
        var y = Tensor.Empty(be, x.Shape);
        var norm = Workspace.Rent(be, 1);
        be.FrobeniusNormalize(x.Data, y.Data, norm);

        // dx = (dy − y·⟨dy, y⟩)/||x||_F.
        return Autograd.Record(y, nameof(FrobeniusNormalize), [x], dy =>
        {
            var dx = Workspace.Rent(be, x.Length);
            be.FrobeniusNormalizeBackward(y.Data, dy, norm, dx);
            Autograd.Accumulate(x, dx, owned: true);
        });
    }
}
