namespace Mmae.Kernels.Scalar;

// Pairwise distances and the manifold-matching loss.
// p = points in the batch, dim = coordinates per point; x, dx: (p, dim); D, dD: (p, p).
// Matching: z: (p, m) latent codes, e: (p, l) reference embedding rows, dz: (p, m).
//   D^Z_ij = ||z_i − z_j||², D^E_ij = ||e_i − e_j||², D̃ = D/||D||_F (D̃ = 0 when ||D||_F = 0),
//   L = (1/p²)·||D̃^E − D̃^Z||²_F.
// Backward, chained from the three rules below it:
//   G = ∂L/∂D̃^Z = −(2/p²)(D̃^E − D̃^Z), dD^Z = (G − D̃^Z⟨G, D̃^Z⟩)/||D^Z||_F,
//   dz_i = 2 Σ_j (dD^Z_ij + dD^Z_ji)(z_i − z_j), everything times dLoss[0].
public sealed partial class ScalarBackend
{
    /// <inheritdoc/>
    /// <remarks>Each entry is summed coordinate by coordinate, so the diagonal is exactly 0 and
    /// no cancellation from the expansion ||a||² + ||b||² − 2⟨a, b⟩ appears.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">p or dim is negative.</exception>
    /// <exception cref="ArgumentException">A buffer is not this backend's, or a length is not
    /// p·dim or p·p.</exception>
    public void PairwiseSquaredDistances(DeviceBuffer x, int p, int dim, DeviceBuffer d)
    {
        NonNegative(p);
        NonNegative(dim);
        double[] xData = Own(x, p * dim);
        double[] dData = Own(d, p * p);

        SquaredDistances(xData, p, dim, dData);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentOutOfRangeException">p or dim is negative.</exception>
    /// <exception cref="ArgumentException">A buffer is not this backend's, or a length is not
    /// p·dim or p·p.</exception>
    public void PairwiseSquaredDistancesBackward(
        DeviceBuffer x,
        DeviceBuffer dD,
        int p,
        int dim,
        DeviceBuffer dx)
    {
        NonNegative(p);
        NonNegative(dim);
        double[] xData = Own(x, p * dim);
        double[] dDData = Own(dD, p * p);
        double[] dxData = Own(dx, p * dim);

        SquaredDistancesBackward(xData, dDData, p, dim, dxData);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A buffer is not this backend's, the lengths of
    /// <paramref name="x"/> and <paramref name="y"/> differ, or <paramref name="norm"/> does
    /// not hold exactly one element.</exception>
    public void FrobeniusNormalize(DeviceBuffer x, DeviceBuffer y, DeviceBuffer norm)
    {
        double[] xData = Own(x);
        double[] yData = Own(y, xData.Length);
        double[] normData = Own(norm, 1);

        normData[0] = Normalize(xData, yData);
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">A buffer is not this backend's, the lengths of
    /// <paramref name="y"/>, <paramref name="dy"/> and <paramref name="dx"/> differ, or
    /// <paramref name="norm"/> does not hold exactly one element.</exception>
    public void FrobeniusNormalizeBackward(
        DeviceBuffer y,
        DeviceBuffer dy,
        DeviceBuffer norm,
        DeviceBuffer dx)
    {
        double[] yData = Own(y);
        double[] dyData = Own(dy, yData.Length);
        double normValue = Own(norm, 1)[0];
        double[] dxData = Own(dx, yData.Length);

        NormalizeBackward(yData, dyData, normValue, dxData);
    }

    /// <inheritdoc/>
    /// <remarks>A batch whose latent codes all coincide has D^Z = 0, so D̃^Z = 0 and the loss
    /// is ||D̃^E||²_F/p² = 1/p² (unless the reference rows coincide too).</remarks>
    /// <exception cref="ArgumentOutOfRangeException">p, m or l is negative.</exception>
    /// <exception cref="ArgumentException">A buffer is not this backend's, a length is not
    /// p·m or p·l, or <paramref name="loss"/> does not hold exactly one element.</exception>
    public void MatchLossForward(
        DeviceBuffer z,
        DeviceBuffer e,
        int p,
        int m,
        int l,
        DeviceBuffer loss)
    {
        NonNegative(p);
        NonNegative(m);
        NonNegative(l);
        double[] zData = Own(z, p * m);
        double[] eData = Own(e, p * l);
        double[] lossData = Own(loss, 1);

        var dZ = new double[p * p];
        var dE = new double[p * p];
        SquaredDistances(zData, p, m, dZ);
        SquaredDistances(eData, p, l, dE);
        lossData[0] = MatchLoss(dZ, dE, p);
    }

    /// <inheritdoc/>
    /// <remarks>Through a zero ||D^Z||_F the gradient is 0, so a batch of coinciding codes
    /// gets dz = 0.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">p, m or l is negative.</exception>
    /// <exception cref="ArgumentException">A buffer is not this backend's, a length is not
    /// p·m or p·l, or <paramref name="dLoss"/> does not hold exactly one element.</exception>
    public void MatchLossBackward(
        DeviceBuffer z,
        DeviceBuffer e,
        int p,
        int m,
        int l,
        DeviceBuffer dLoss,
        DeviceBuffer dz)
    {
        NonNegative(p);
        NonNegative(m);
        NonNegative(l);
        double[] zData = Own(z, p * m);
        double[] eData = Own(e, p * l);
        double dL = Own(dLoss, 1)[0];
        double[] dzData = Own(dz, p * m);

        // Forward again: D^Z, D^E and their normalised forms.
        var dZ = new double[p * p];
        var dE = new double[p * p];
        SquaredDistances(zData, p, m, dZ);
        SquaredDistances(eData, p, l, dE);

        var nZ = new double[p * p];
        var nE = new double[p * p];
        double normZ = Normalize(dZ, nZ);
        Normalize(dE, nE);

        // G = dLoss·∂L/∂D̃^Z = dLoss·(−2/p²)(D̃^E − D̃^Z)
        var g = new double[p * p];
        for (int i = 0; i < p * p; i++)
        {
            g[i] = dL * (-2.0 / ((double)p * p)) * (nE[i] - nZ[i]);
        }

        // Back through the normalisation, then through the distances.
        var dDZ = new double[p * p];
        NormalizeBackward(nZ, g, normZ, dDZ);
        SquaredDistancesBackward(zData, dDZ, p, m, dzData);
    }

    /// <inheritdoc/>
    public void EuclideanMatchLossForward(
        DeviceBuffer z,
        DeviceBuffer e,
        int p,
        int m,
        int l,
        DeviceBuffer loss)
    {
        NonNegative(p);
        NonNegative(m);
        NonNegative(l);
        double[] zData = Own(z, p * m);
        double[] eData = Own(e, p * l);
        double[] lossData = Own(loss, 1);

        lossData[0] = MatchLoss(EuclideanDistances(zData, p, m), EuclideanDistances(eData, p, l), p);
    }

    /// <inheritdoc/>
    public void EuclideanMatchLossBackward(
        DeviceBuffer z,
        DeviceBuffer e,
        int p,
        int m,
        int l,
        DeviceBuffer dLoss,
        DeviceBuffer dz)
    {
        NonNegative(p);
        NonNegative(m);
        NonNegative(l);
        double[] zData = Own(z, p * m);
        double[] eData = Own(e, p * l);
        double dL = Own(dLoss, 1)[0];
        double[] dzData = Own(dz, p * m);

        double[] dZ = EuclideanDistances(zData, p, m);
        var nZ = new double[p * p];
        var nE = new double[p * p];
        double normZ = Normalize(dZ, nZ);
        Normalize(EuclideanDistances(eData, p, l), nE);

        var g = new double[p * p];
        for (int i = 0; i < p * p; i++)
        {
            g[i] = dL * (-2.0 / ((double)p * p)) * (nE[i] - nZ[i]);
        }

        var dDZ = new double[p * p];
        NormalizeBackward(nZ, g, normZ, dDZ);

        // D_ij = ||z_i − z_j||: dz_i = Σ_j (dD_ij + dD_ji)(z_i − z_j)/D_ij, skipping D_ij = 0.
        for (int i = 0; i < p; i++)
        {
            for (int k = 0; k < m; k++)
            {
                double sum = 0.0;
                for (int j = 0; j < p; j++)
                {
                    if (dZ[i * p + j] > 0.0)
                    {
                        double w = (dDZ[i * p + j] + dDZ[j * p + i]) / dZ[i * p + j];
                        sum += w * (zData[i * m + k] - zData[j * m + k]);
                    }
                }

                dzData[i * m + k] = sum;
            }
        }
    }

    /// <summary>D[i, j] = ||x_i − x_j|| for the p rows of x (p×dim).</summary>
    // (1/p²)·||D̃E − D̃Z||²_F from the two p×p distance matrices.
    private static double MatchLoss(double[] dZ, double[] dE, int p)
    {
        var nZ = new double[p * p];
        var nE = new double[p * p];
        Normalize(dZ, nZ);
        Normalize(dE, nE);

        double squares = 0.0;
        for (int i = 0; i < p * p; i++)
        {
            double diff = nE[i] - nZ[i];
            squares += diff * diff;
        }

        return squares / ((double)p * p);
    }

    private static double[] EuclideanDistances(double[] x, int p, int dim)
    {
        var d = new double[p * p];
        SquaredDistances(x, p, dim, d);
        for (int i = 0; i < d.Length; i++)
        {
            d[i] = Math.Sqrt(d[i]);
        }

        return d;
    }

    /// <summary>d[i, j] = Σ_k (x[i, k] − x[j, k])² for the p rows of x (p×dim).</summary>
    private static void SquaredDistances(double[] x, int p, int dim, double[] d)
    {
        for (int i = 0; i < p; i++)
        {
            for (int j = 0; j < p; j++)
            {
                double sum = 0.0;
                for (int k = 0; k < dim; k++)
                {
                    double diff = x[i * dim + k] - x[j * dim + k];
                    sum += diff * diff;
                }

                d[i * p + j] = sum;
            }
        }
    }

    /// <summary>dx_i = 2 Σ_j (dD_ij + dD_ji)(x_i − x_j); dx must not be x.</summary>
    private static void SquaredDistancesBackward(
        double[] x,
        double[] dD,
        int p,
        int dim,
        double[] dx)
    {
        Array.Clear(dx);
        for (int i = 0; i < p; i++)
        {
            for (int j = 0; j < p; j++)
            {
                // D_ij and D_ji both contain x_i; ∂||x_i − x_j||²/∂x_i = 2(x_i − x_j).
                double s = dD[i * p + j] + dD[j * p + i];
                for (int k = 0; k < dim; k++)
                {
                    dx[i * dim + k] += 2.0 * s * (x[i * dim + k] - x[j * dim + k]);
                }
            }
        }
    }

    /// <summary>y = x/||x||_F, or y = 0 when ||x||_F = 0; returns ||x||_F.</summary>
    private static double Normalize(double[] x, double[] y)
    {
        double squares = 0.0;
        for (int i = 0; i < x.Length; i++)
        {
            squares += x[i] * x[i];
        }

        double norm = Math.Sqrt(squares);
        for (int i = 0; i < x.Length; i++)
        {
            y[i] = norm == 0.0 ? 0.0 : x[i] / norm;
        }

        return norm;
    }

    /// <summary>dx = (dy − y·⟨dy, y⟩)/norm, or dx = 0 when norm = 0.</summary>
    private static void NormalizeBackward(double[] y, double[] dy, double norm, double[] dx)
    {
        if (norm == 0.0)
        {
            Array.Clear(dx);
            return;
        }

        // ∂(x/||x||)/∂x = (I − y·yᵀ)/||x||, applied to dy.
        double dot = 0.0;
        for (int i = 0; i < y.Length; i++)
        {
            dot += dy[i] * y[i];
        }

        for (int i = 0; i < y.Length; i++)
        {
            dx[i] = (dy[i] - y[i] * dot) / norm;
        }
    }
}
