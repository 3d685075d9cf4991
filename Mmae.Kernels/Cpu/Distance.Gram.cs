namespace Mmae.Kernels.Cpu;

// L_mm without any p×p matrix.
// p = points, m = latent dim, l = reference dim; z: (p, m), e: (p, l).
// Centre both on their batch means (distances do not change); then with a_i = ||z_i||²,
// b_i = ||e_i||², S_a = Σa, S_b = Σb, and the Gram blocks ZᵀZ (m×m), EᵀZ (l×m), EᵀE (l×l):
//   C = ⟨D^E, D^Z⟩  = 2p·Σ a_i b_i + 2·S_a·S_b + 4·||EᵀZ||²_F
//   Q = ||D^Z||²_F  = 2p·Σ a_i²    + 2·S_a²    + 4·||ZᵀZ||²_F
//   R = ||D^E||²_F  = 2p·Σ b_i²    + 2·S_b²    + 4·||EᵀE||²_F
// (every term with Σz_i or Σe_i vanishes), and L_mm = (2/p²)·(1 − C/√(QR)).
// Gradient, from ∂C/∂z_k = 4Σ_j D^E_kj (z_k − z_j) and ∂Q/∂z_k = 8Σ_j D^Z_kj (z_k − z_j)
// expanded the same way, with r = C/Q and s = −(2/p²)/√(QR):
//   ∂L/∂z_k = s·[(4(p·b_k + S_b) − 4r(p·a_k + S_a))·z_k − 4Zᵀb + 4r·Zᵀa
//               + 8·e_kᵀ(EᵀZ) − 8r·z_kᵀ(ZᵀZ)]
// Cost O(p·(m + l)²) time and O(chunk·(m + l) + (m + l)²) memory. Everything after the
// float32 inputs is float64: near convergence 1 − C/√(QR) is a small difference of numbers
// near 1, and float32 Gram sums would leave only its leading digit.
public sealed partial class CpuBackend
{
    // Rows converted to float64 at a time; bounds the extra memory independently of p.
    private const int GramChunk = 2048;

    // Scratch kept between calls so that steady-state training allocates nothing here.
    private double[]? _gramU, _gramMat, _gramK, _gramUK, _gramA, _gramB;

    // The terms of the last forward pass, for the backward pass that follows it.
    private (float[] Z, float[] E, GramTerms Terms)? _lastGram;

    private sealed class GramTerms
    {
        public required int P, M, L;
        public required double[] MeanZ, MeanE, A, B, Gram;
        public double Sa, Sb, C, Q, R;

        public int W => M + L;
    }

    private GramTerms ComputeGramTerms(float[] z, float[] e, int p, int m, int l)
    {
        int w = m + l;
        double[] meanZ = ColumnMeans(z, p, m), meanE = ColumnMeans(e, p, l);
        var t = new GramTerms
        {
            P = p, M = m, L = l, MeanZ = meanZ, MeanE = meanE,
            A = Scratch(ref _gramA, p), B = Scratch(ref _gramB, p), Gram = Scratch(ref _gramMat, w * w),
        };

        // U = [Zc | Ec] chunk by chunk; Gram = UᵀU accumulates (m + l)² sums in float64.
        double[] u = Scratch(ref _gramU, Math.Min(p, GramChunk) * w);
        for (int r0 = 0; r0 < p; r0 += GramChunk)
        {
            int rows = Math.Min(GramChunk, p - r0);
            FillCentred(z, e, t, r0, rows, u);
            Gemm<double>.Run(true, false, w, w, rows, 1.0, u, u, r0 == 0 ? 0.0 : 1.0, t.Gram, Threads);
        }

        double saa = 0, sbb = 0, sab = 0;
        for (int i = 0; i < p; i++)
        {
            t.Sa += t.A[i];
            t.Sb += t.B[i];
            saa += t.A[i] * t.A[i];
            sbb += t.B[i] * t.B[i];
            sab += t.A[i] * t.B[i];
        }

        double zz = 0, ez = 0, ee = 0;
        for (int i = 0; i < w; i++)
        {
            for (int j = 0; j < w; j++)
            {
                double g2 = t.Gram[i * w + j] * t.Gram[i * w + j];
                if (i < m && j < m)
                {
                    zz += g2;
                }
                else if (i >= m && j >= m)
                {
                    ee += g2;
                }
                else
                {
                    ez += g2;
                }
            }
        }

        // ez counted both EᵀZ and ZᵀE: halve it for ||EᵀZ||²_F.
        t.C = 2.0 * p * sab + 2.0 * t.Sa * t.Sb + 2.0 * ez;
        t.Q = 2.0 * p * saa + 2.0 * t.Sa * t.Sa + 4.0 * zz;
        t.R = 2.0 * p * sbb + 2.0 * t.Sb * t.Sb + 4.0 * ee;
        return t;
    }

    // u rows = [z_i − μ_z | e_i − μ_e] for i in [r0, r0 + rows); also fills a_i and b_i.
    // An array of at least length elements, reused across calls; contents undefined.
    private static double[] Scratch(ref double[]? slot, int length)
    {
        if (slot is null || slot.Length < length)
        {
            slot = new double[length];
        }

        return slot;
    }

    private void FillCentred(float[] z, float[] e, GramTerms t, int r0, int rows, double[] u)
    {
        int m = t.M, l = t.L, w = t.W;
        Parallelism.ForChunks(rows, 64, Threads, (s, end) =>
        {
            for (int r = s; r < end; r++)
            {
                int i = r0 + r;
                double a = 0, b = 0;
                for (int k = 0; k < m; k++)
                {
                    double v = z[i * m + k] - t.MeanZ[k];
                    u[r * w + k] = v;
                    a += v * v;
                }

                for (int k = 0; k < l; k++)
                {
                    double v = e[i * l + k] - t.MeanE[k];
                    u[r * w + m + k] = v;
                    b += v * v;
                }

                t.A[i] = a;
                t.B[i] = b;
            }
        });
    }

    private static double[] ColumnMeans(float[] x, int rows, int cols)
    {
        var mean = new double[cols];
        for (int i = 0; i < rows; i++)
        {
            for (int k = 0; k < cols; k++)
            {
                mean[k] += x[i * cols + k];
            }
        }

        for (int k = 0; k < cols; k++)
        {
            mean[k] /= rows;
        }

        return mean;
    }

    private static double GramLoss(GramTerms t)
    {
        double p2 = (double)t.P * t.P;
        if (t.Q <= 0 || t.R <= 0)
        {
            // A zero distance matrix normalises to zero; the other one keeps unit norm.
            return ((t.Q > 0 ? 1.0 : 0.0) + (t.R > 0 ? 1.0 : 0.0)) / p2;
        }

        return 2.0 / p2 * (1.0 - t.C / Math.Sqrt(t.Q * t.R));
    }

    private void GramMatchForward(float[] z, float[] e, int p, int m, int l, float[] loss)
    {
        GramTerms t = ComputeGramTerms(z, e, p, m, l);
        _lastGram = (z, e, t);
        loss[0] = (float)GramLoss(t);
    }

    private void GramMatchBackward(float[] z, float[] e, int p, int m, int l, float dLoss, float[] dz)
    {
        // The forward pass just before, on these same buffers, already has every Gram term;
        // IBackend's contract says the buffers did not change in between.
        GramTerms t = _lastGram is var (lz, le, lt) && ReferenceEquals(lz, z) && ReferenceEquals(le, e)
            && lt.P == p && lt.M == m && lt.L == l
            ? lt
            : ComputeGramTerms(z, e, p, m, l);
        _lastGram = null;
        if (t.Q <= 0 || t.R <= 0)
        {
            // The loss is constant in z there (see GramLoss): the gradient is zero.
            Array.Clear(dz, 0, p * m);
            return;
        }

        int w = t.W;
        double r = t.C / t.Q;
        double s = -2.0 * dLoss / ((double)p * p) / Math.Sqrt(t.Q * t.R);

        // K = [−8r·ZᵀZ ; 8·EᵀZ] ((m + l)×m), so U_k·K = 8·e_kᵀ(EᵀZ) − 8r·z_kᵀ(ZᵀZ).
        double[] kMat = Scratch(ref _gramK, w * m);
        for (int i = 0; i < w; i++)
        {
            double f = i < m ? -8.0 * r : 8.0;
            for (int j = 0; j < m; j++)
            {
                kMat[i * m + j] = f * t.Gram[i * w + j];
            }
        }

        // v = −4·Zᵀb + 4r·Zᵀa over centred z: the part of the gradient shared by all rows.
        var v = new double[m];
        double[] u = Scratch(ref _gramU, Math.Min(p, GramChunk) * w);
        double[] uk = Scratch(ref _gramUK, Math.Min(p, GramChunk) * m);
        for (int r0 = 0; r0 < p; r0 += GramChunk)
        {
            int rows = Math.Min(GramChunk, p - r0);
            FillCentred(z, e, t, r0, rows, u);
            for (int q = 0; q < rows; q++)
            {
                double coef = -4.0 * t.B[r0 + q] + 4.0 * r * t.A[r0 + q];
                for (int k = 0; k < m; k++)
                {
                    v[k] += coef * u[q * w + k];
                }
            }
        }

        for (int r0 = 0; r0 < p; r0 += GramChunk)
        {
            int rows = Math.Min(GramChunk, p - r0);
            FillCentred(z, e, t, r0, rows, u);
            Gemm<double>.Run(false, false, rows, m, w, 1.0, u, kMat, 0.0, uk, Threads);
            Parallelism.ForChunks(rows, 64, Threads, (q0, q1) =>
            {
                for (int q = q0; q < q1; q++)
                {
                    int i = r0 + q;
                    double c1 = 4.0 * (p * t.B[i] + t.Sb) - 4.0 * r * (p * t.A[i] + t.Sa);
                    for (int k = 0; k < m; k++)
                    {
                        dz[i * m + k] = (float)(s * (c1 * u[q * w + k] + v[k] + uk[q * m + k]));
                    }
                }
            });
        }
    }
}
