namespace Mmae.Kernels.Cpu;

// p = points in a batch, m = latent dim, l = reference dim; z: (p, m), e: (p, l);
// D^Z, D^E: (p, p) squared Euclidean distances; D̃ = D/||D||_F.
// L_mm = (1/p²)·||D̃^E − D̃^Z||²_F.
// Distances are summed from coordinate differences (never from ||a||² + ||b||² − 2⟨a,b⟩),
// so nearly equal points far from the origin keep their digits.
public sealed partial class CpuBackend
{
    /// <inheritdoc/>
    public void PairwiseSquaredDistances(DeviceBuffer x, int p, int dim, DeviceBuffer d)
    {
        float[] px = F(x), pd = F(d);
        Parallelism.ForChunks(p, 8, Threads, (r0, r1) =>
        {
            for (int i = r0; i < r1; i++)
            {
                ReadOnlySpan<float> xi = px.AsSpan(i * dim, dim);
                for (int j = 0; j < p; j++)
                {
                    pd[i * p + j] = (float)Elementwise.SumSquaredDifference(xi, px.AsSpan(j * dim, dim));
                }
            }
        });
    }

    /// <inheritdoc/>
    public void PairwiseSquaredDistancesBackward(
        DeviceBuffer x,
        DeviceBuffer dD,
        int p,
        int dim,
        DeviceBuffer dx)
    {
        float[] px = F(x), pg = F(dD), pdx = F(dx);
        var s = new double[p * p];
        for (int i = 0; i < p; i++)
        {
            for (int j = 0; j < p; j++)
            {
                s[i * p + j] = (double)pg[i * p + j] + pg[j * p + i];
            }
        }

        DistanceGradient(px, s, p, dim, 1.0, pdx);
    }

    /// <inheritdoc/>
    public void FrobeniusNormalize(DeviceBuffer x, DeviceBuffer y, DeviceBuffer norm)
    {
        float[] px = F(x), py = F(y);
        double sum = 0;
        foreach (float v in px)
        {
            sum += (double)v * v;
        }

        double nrm = Math.Sqrt(sum);
        F(norm)[0] = (float)nrm;
        double inv = nrm > 0 ? 1.0 / nrm : 0.0;
        for (int i = 0; i < px.Length; i++)
        {
            py[i] = (float)(px[i] * inv);
        }
    }

    /// <inheritdoc/>
    public void FrobeniusNormalizeBackward(
        DeviceBuffer y,
        DeviceBuffer dy,
        DeviceBuffer norm,
        DeviceBuffer dx)
    {
        float[] py = F(y), pg = F(dy), pd = F(dx);
        double nrm = F(norm)[0];
        double dot = 0;
        for (int i = 0; i < py.Length; i++)
        {
            dot += (double)pg[i] * py[i];
        }

        double inv = nrm > 0 ? 1.0 / nrm : 0.0;
        for (int i = 0; i < pd.Length; i++)
        {
            pd[i] = (float)((pg[i] - py[i] * dot) * inv);
        }
    }

    /// <inheritdoc/>
    public void MatchLossForward(DeviceBuffer z, DeviceBuffer e, int p, int m, int l, DeviceBuffer loss) =>
        GramMatchForward(F(z), F(e), p, m, l, F(loss));

    /// <inheritdoc/>
    public void MatchLossBackward(
        DeviceBuffer z,
        DeviceBuffer e,
        int p,
        int m,
        int l,
        DeviceBuffer dLoss,
        DeviceBuffer dz) =>
        GramMatchBackward(F(z), F(e), p, m, l, F(dLoss)[0], F(dz));

    // dx_i = 2·Σ_j S_ij (x_i − x_j), from coordinate differences and summed in double, so
    // that points far from the origin do not cancel.
    private void DistanceGradient(float[] x, double[] s, int p, int dim, double scale, float[] dx)
    {
        Parallelism.ForChunks(p, 8, Threads, (r0, r1) =>
        {
            var acc = new double[dim];
            for (int i = r0; i < r1; i++)
            {
                Array.Clear(acc);
                int xi = i * dim;
                for (int j = 0; j < p; j++)
                {
                    double sij = s[i * p + j];
                    int xj = j * dim;
                    for (int k = 0; k < dim; k++)
                    {
                        acc[k] += sij * ((double)x[xi + k] - x[xj + k]);
                    }
                }

                for (int k = 0; k < dim; k++)
                {
                    dx[xi + k] = (float)(2.0 * scale * acc[k]);
                }
            }
        });
    }

    private double[] SquaredDistances(float[] x, int p, int dim, out double frobenius)
    {
        var d = new double[p * p];
        Parallelism.ForChunks(p, 8, Threads, (r0, r1) =>
        {
            for (int i = r0; i < r1; i++)
            {
                ReadOnlySpan<float> xi = x.AsSpan(i * dim, dim);
                for (int j = 0; j < p; j++)
                {
                    d[i * p + j] = Elementwise.SumSquaredDifference(xi, x.AsSpan(j * dim, dim));
                }
            }
        });
        double sum = 0;
        foreach (double v in d)
        {
            sum += v * v;
        }

        frobenius = Math.Sqrt(sum);
        return d;
    }
}
