using Mmae.Kernels;

namespace Mmae.Engine;

// p = batch rows, d = input features, m = latent dimension; x: (p, d), z: (p, m), A: (p, p).
public static partial class Losses
{
    /// <summary>
    /// The 0-dimensional topological loss of Moor et al. (2020, "Topological Autoencoders")
    /// between a batch x (p×d) and its latent codes z (p×m):
    /// L = (1/p)·[½·Σ_{(i,j)∈π_X} (A^X_ij − A^Z_ij)² + ½·Σ_{(i,j)∈π_Z} (A^Z_ij − A^X_ij)²],
    /// with A the Euclidean distance matrices of each space and π the edges of each space's
    /// minimum spanning tree (its 0-dimensional persistence pairs).
    /// </summary>
    /// <remarks>
    /// <para>
    /// Distances are plain Euclidean, as in the paper. Their published code divides the input
    /// distances by the batch's largest one (for flat inputs; by 2·√d for images in [−1, 1]) and
    /// the latent ones by a learnt scalar that starts at 1; <paramref name="scaleInputByMax"/>
    /// reproduces the first, and the learnt latent scale is not offered. Their code (its
    /// symmetric edge matching, the form above) sums the squared differences without the
    /// paper's ½ and divides the sum by the batch size; this op keeps the ½ and the division, so
    /// it is half their value (their λ equals twice ours).
    /// </para>
    /// <para>
    /// Only z receives a gradient; x is data. The tree edges are held fixed when
    /// differentiating (they change only where two edges tie, a set of measure zero). A pair at
    /// distance 0 in latent space contributes no gradient, the subgradient 0 of ||·|| at the
    /// origin.
    /// </para>
    /// <para>
    /// Runs on every backend: the distance matrices come from the backend's pairwise-distance
    /// kernel and the gradient goes back through its backward kernel, but the spanning trees are
    /// found on the host. Each call therefore copies two p×p matrices to the host (which waits
    /// for a GPU's queue) and its backward pass copies one p×p matrix back; at p = 128 that is
    /// 64 KiB each way in float32. Limitation: a device-side spanning tree would remove the
    /// copies and the wait; O(p²) host work is small next to the encoder at batch sizes used.
    /// </para>
    /// </remarks>
    /// <param name="x">The batch in input space, (p, d); receives no gradient.</param>
    /// <param name="z">Latent codes of the same rows, (p, m).</param>
    /// <param name="scaleInputByMax">Divide the input distances by their largest value in the
    /// batch, as the authors' code does for flat data.</param>
    /// <exception cref="ArgumentException">x or z is not a matrix, they live on different
    /// backends, their row counts differ, or there are fewer than 2 rows.</exception>
    public static Tensor Topological(Tensor x, Tensor z, bool scaleInputByMax = false)
    {
        Check.Matrix(nameof(Topological), x, "inputs");
        Check.Matrix(nameof(Topological), z, "latent codes");
        Check.SameBackend(nameof(Topological), x, z);
        if (x.Rows != z.Rows)
        {
            throw new ArgumentException(
                $"Topological: inputs have {x.Rows} rows, latent codes have {z.Rows}; "
                + "pass the batch and its own codes.");
        }

        if (z.Rows < 2)
        {
            throw new ArgumentException($"Topological: needs at least 2 points, got {z.Rows}.");
        }

        var be = z.Backend;
        int p = z.Rows, m = z.Cols;
        double[] ax = HostDistances(x, scaleInputByMax);
        double[] az = HostDistances(z, scaleByMax: false);
        (int I, int J)[] treeX = MinimumSpanningTree.Prim(ax, p);
        (int I, int J)[] treeZ = MinimumSpanningTree.Prim(az, p);

        // Both sums run over (A^Z − A^X)² on their own tree's edges; ½ each, then 1/p.
        double sum = 0;
        foreach ((int i, int j) in treeX.Concat(treeZ))
        {
            double diff = az[i * p + j] - ax[i * p + j];
            sum += diff * diff;
        }

        var loss = Tensor.Empty(be, 1);
        WriteHost(be, [0.5 * sum / p], loss.Data);

        // dL/dA^Z_ij = (A^Z_ij − A^X_ij)/p per tree edge (twice if in both trees), and
        // dA/dD = 1/(2A) turns it into a gradient of the squared distances D^Z = (A^Z)².
        return Autograd.Record(loss, nameof(Topological), [z], dLoss =>
        {
            var dD = new double[p * p];
            foreach ((int i, int j) in treeX.Concat(treeZ))
            {
                double a = az[i * p + j];
                if (a > 0)
                {
                    dD[i * p + j] += (a - ax[i * p + j]) / (2 * p * a);
                }
            }

            DeviceBuffer dDevice = Workspace.Rent(be, p * p);
            WriteHost(be, dD, dDevice);
            DeviceBuffer dzUnit = Workspace.Rent(be, z.Length);
            be.PairwiseSquaredDistancesBackward(z.Data, dDevice, p, m, dzUnit);

            // Scale by dLoss on the device, so the backward pass never waits for a copy out.
            DeviceBuffer dz = Workspace.RentZeroed(be, z.Length);
            be.AxpyScaled(dLoss, 1f, dzUnit, dz);
            Autograd.Accumulate(z, dz, owned: true);
        });
    }

    // A = sqrt(max(D, 0)) of the rows of t, on the host; optionally divided by max(A) when > 0.
    private static double[] HostDistances(Tensor t, bool scaleByMax)
    {
        var be = t.Backend;
        int p = t.Rows;
        DeviceBuffer squared = Workspace.Rent(be, p * p);
        be.PairwiseSquaredDistances(t.Data, p, t.Cols, squared);
        var a = new double[p * p];
        be.Download(squared, a);
        double max = 0;
        for (int k = 0; k < a.Length; k++)
        {
            a[k] = Math.Sqrt(Math.Max(a[k], 0));
            max = Math.Max(max, a[k]);
        }

        if (scaleByMax && max > 0)
        {
            for (int k = 0; k < a.Length; k++)
            {
                a[k] /= max;
            }
        }

        return a;
    }

    // dst = values, keeping float64 on a float64 backend (the gradient-check oracle).
    private static void WriteHost(IBackend be, double[] values, DeviceBuffer dst)
    {
        if (be.ElementSize == sizeof(double))
        {
            be.Copy(be.Upload(values), dst);
            return;
        }

        var floats = new float[values.Length];
        for (int k = 0; k < values.Length; k++)
        {
            floats[k] = (float)values[k];
        }

        be.Write(floats, dst);
    }
}
