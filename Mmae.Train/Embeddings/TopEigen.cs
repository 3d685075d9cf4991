namespace Mmae.Train.Embeddings;

/// <summary>
/// The leading eigenpairs of a large symmetric positive semi-definite matrix by subspace
/// iteration with Rayleigh–Ritz extraction: a block of b = k + max(k, 10) vectors is multiplied
/// by the matrix and re-orthonormalised until the k leading Ritz values settle, then the small
/// b × b projected matrix is decomposed exactly.
/// </summary>
/// <remarks>
/// Each iteration costs d²·b multiply-adds instead of the ~4d³ of a full decomposition: for
/// PCA of 64×64 images (d = 4,096) to 10 components, a few seconds instead of minutes. The
/// answer is the full decomposition's to the convergence tolerance (relative 1e-12 on the Ritz
/// values, checked every few iterations, at most 300 iterations); eigenvectors are signed as
/// <see cref="SymmetricEigen"/> signs them (largest entry positive).
/// </remarks>
internal static class TopEigen
{
    private const int MaxIterations = 300;
    private const int CheckEvery = 4;
    private const double Tolerance = 1e-12;

    /// <summary>The k largest eigenvalues (descending) and their eigenvectors (k × d, row-major).</summary>
    /// <param name="matrix">d × d symmetric positive semi-definite, row-major.</param>
    /// <param name="d">Size.</param>
    /// <param name="k">Eigenpairs wanted, 1 ≤ k ≤ d.</param>
    public static (double[] Values, double[] Vectors) Compute(double[] matrix, int d, int k)
    {
        int b = Math.Min(d, k + Math.Max(k, 10));
        var q = new double[b * d];                 // rows are the block's vectors
        var rng = new Mmae.Engine.Rng(0x70BE16E9);
        for (int i = 0; i < q.Length; i++)
        {
            q[i] = rng.NextGaussian();
        }

        Orthonormalise(q, b, d);
        var z = new double[b * d];
        double[] previous = new double[k];
        for (int it = 1; ; it++)
        {
            Multiply(matrix, d, q, b, z);
            bool check = it % CheckEvery == 0 || it == MaxIterations;
            if (check)
            {
                (double[] ritz, _) = RayleighRitz(q, z, b, d);
                bool settled = true;
                for (int c = 0; c < k; c++)
                {
                    settled &= Math.Abs(ritz[c] - previous[c]) <= Tolerance * Math.Max(Math.Abs(ritz[0]), 1e-300);
                    previous[c] = ritz[c];
                }

                if (settled || it == MaxIterations)
                {
                    return Extract(q, z, b, d, k);
                }
            }

            (q, z) = (z, q);
            Orthonormalise(q, b, d);
        }
    }

    private static (double[] Values, double[] Vectors) Extract(double[] q, double[] z, int b, int d, int k)
    {
        (double[] values, double[] v) = RayleighRitz(q, z, b, d);
        var vectors = new double[k * d];
        Parallel.For(0, k, c =>
        {
            Span<double> row = vectors.AsSpan(c * d, d);
            for (int r = 0; r < b; r++)
            {
                double w = v[c * b + r];
                ReadOnlySpan<double> qr = q.AsSpan(r * d, d);
                for (int j = 0; j < d; j++)
                {
                    row[j] += w * qr[j];
                }
            }

            double norm = Math.Sqrt(SymmetricEigen.Dot(row, row));
            int big = 0;
            for (int j = 1; j < d; j++)
            {
                big = Math.Abs(row[j]) > Math.Abs(row[big]) ? j : big;
            }

            double scale = (row[big] < 0 ? -1 : 1) / norm;
            for (int j = 0; j < d; j++)
            {
                row[j] *= scale;
            }
        });
        return (values[..k], vectors);
    }

    // T = Qᵀ·(A·Q) with z = A·Q, decomposed exactly: descending Ritz values and their b-vectors.
    private static (double[] Values, double[] Vectors) RayleighRitz(double[] q, double[] z, int b, int d)
    {
        var t = new double[b * b];
        for (int r = 0; r < b; r++)
        {
            for (int c = r; c < b; c++)
            {
                double s = 0.5 * (SymmetricEigen.Dot(q.AsSpan(r * d, d), z.AsSpan(c * d, d))
                    + SymmetricEigen.Dot(q.AsSpan(c * d, d), z.AsSpan(r * d, d)));
                t[r * b + c] = s;
                t[c * b + r] = s;
            }
        }

        SymmetricEigen e = SymmetricEigen.Decompose(t, b);
        return (e.Values, e.Vectors);
    }

    // z_r = A·q_r for each block row; A is symmetric, so row i of A dotted with q_r.
    private static void Multiply(double[] a, int d, double[] q, int b, double[] z) =>
        Parallel.For(0, d, i =>
        {
            ReadOnlySpan<double> ai = a.AsSpan(i * d, d);
            for (int r = 0; r < b; r++)
            {
                z[r * d + i] = SymmetricEigen.Dot(ai, q.AsSpan(r * d, d));
            }
        });

    // Modified Gram–Schmidt, twice for stability; a vector that vanishes is replaced by a unit axis.
    private static void Orthonormalise(double[] q, int b, int d)
    {
        for (int pass = 0; pass < 2; pass++)
        {
            for (int r = 0; r < b; r++)
            {
                Span<double> qr = q.AsSpan(r * d, d);
                for (int s = 0; s < r; s++)
                {
                    ReadOnlySpan<double> qs = q.AsSpan(s * d, d);
                    double proj = SymmetricEigen.Dot(qr, qs);
                    for (int j = 0; j < d; j++)
                    {
                        qr[j] -= proj * qs[j];
                    }
                }

                double norm = Math.Sqrt(SymmetricEigen.Dot(qr, qr));
                if (norm < 1e-300)
                {
                    qr.Clear();
                    qr[r % d] = 1;
                    continue;
                }

                for (int j = 0; j < d; j++)
                {
                    qr[j] /= norm;
                }
            }
        }
    }
}
