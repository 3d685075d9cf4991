using Mmae.Kernels;
using Xunit;

namespace Mmae.Tests.Kernels;

// Pairwise distances, Frobenius normalisation and the matching loss.
// p points; x: (p, dim), D: (p, p); z: (p, m) latent codes, e: (p, l) reference rows.
// A float D_ij, summed directly or expanded as ||x_i||² + ||x_j||² − 2⟨x_i, x_j⟩, is off by
// about dim·u·SD_ij with SD_ij = 2(||x_i||² + ||x_j||²); the expansion cancels where points
// are close, and SD is what bounds it.
public abstract partial class BackendParityTests
{
    /// <summary>Point counts 2, 5 and 128 against dimensions 1, 7 and 33.</summary>
    public static TheoryData<int, int> DistanceShapes()
    {
        var data = new TheoryData<int, int>();
        foreach (int p in new[] { 2, 5, 128 })
        {
            foreach (int dim in new[] { 1, 7, 33 })
            {
                data.Add(p, dim);
            }
        }

        return data;
    }

    /// <summary>
    /// Point counts 2, 5 and 128, each with a latent dimension m below and above the
    /// reference dimension l (m ≠ l always, so swapped strides cannot pass).
    /// </summary>
    public static TheoryData<int, int, int> MatchShapes()
    {
        var data = new TheoryData<int, int, int>();
        foreach (int p in new[] { 2, 5, 128 })
        {
            data.Add(p, 2, 10);
            data.Add(p, 16, 3);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(DistanceShapes))]
    public void PairwiseSquaredDistances_MatchesOracle(int p, int dim)
    {
        double[] x = TestArrays.Uniform(new Random(p * dim), p * dim, -1.0, 1.0);
        Twin xs = Upload(x);
        Twin d = Upload(TestArrays.Constant(p * p, double.NaN));

        Run(b => b.PairwiseSquaredDistances(xs[b], p, dim, d[b]));

        string context = $"PairwiseSquaredDistances p {p}, dim {dim}";
        AssertMatches(d, context, dim + 3, SpreadBound(x, p, dim));
    }

    [Theory]
    [MemberData(nameof(DistanceShapes))]
    public void PairwiseSquaredDistancesBackward_MatchesOracle(int p, int dim)
    {
        var rng = new Random(p + dim);
        double[] x = TestArrays.Uniform(rng, p * dim, -1.0, 1.0);
        double[] dD = TestArrays.Uniform(rng, p * p, -1.0, 1.0);
        Twin xs = Upload(x);
        Twin dDs = Upload(dD);
        Twin dx = Upload(TestArrays.Constant(p * dim, double.NaN));

        Run(b => b.PairwiseSquaredDistancesBackward(xs[b], dDs[b], p, dim, dx[b]));

        // dx_i = 2 Σ_j (dD_ij + dD_ji)(x_i − x_j): p terms of 2·|S_ij|·(|x_i| + |x_j|).
        double[] absS = Map(p * p, ij => Math.Abs(dD[ij]) + Math.Abs(dD[ij % p * p + ij / p]));
        AssertMatches(
            dx,
            $"PairwiseSquaredDistancesBackward p {p}, dim {dim}",
            p + 3,
            DistanceBackwardBound(absS, x, p, dim));
    }

    [Fact]
    public void FrobeniusNormalize_EveryLength_MatchesOracle()
    {
        foreach (int n in ElementwiseLengths)
        {
            var rng = new Random(n);
            double[] dy = TestArrays.Uniform(rng, n, -1.0, 1.0);
            Twin x = Upload(TestArrays.Uniform(rng, n, -2.0, 2.0));
            Twin y = Upload(TestArrays.Constant(n, double.NaN));
            Twin norm = Upload([double.NaN]);

            Run(b => b.FrobeniusNormalize(x[b], y[b], norm[b]));

            // norm: n squares summed, then a square root; y = x/norm inherits its error.
            double[] yExpected = Expected(y);
            double normValue = Expected(norm)[0];
            AssertMatches(norm, $"FrobeniusNormalize norm, length {n}", n + 2, [normValue]);
            AssertMatches(y, $"FrobeniusNormalize y, length {n}", n + 3, Abs(yExpected));

            // Backward on the oracle's y and norm, so both backends get identical inputs.
            Twin ys = Upload(yExpected.Select(v => (double)(float)v).ToArray());
            Twin norms = Upload([(float)normValue]);
            Twin dys = Upload(dy);
            Twin dx = Upload(TestArrays.Constant(n, double.NaN));
            Run(b => b.FrobeniusNormalizeBackward(ys[b], dys[b], norms[b], dx[b]));

            // dx = (dy − y·⟨dy, y⟩)/norm: the dot product has n terms of |dy_k·y_k|.
            double absDot = Enumerable.Range(0, n).Sum(k => Math.Abs(dy[k] * yExpected[k]));
            double[] scale = Map(
                n,
                i => (Math.Abs(dy[i]) + Math.Abs(yExpected[i]) * absDot) / normValue);
            AssertMatches(dx, $"FrobeniusNormalizeBackward, length {n}", n + 4, scale);
        }
    }

    [Fact]
    public void FrobeniusNormalize_ZeroInput_GivesZerosOnBothBackends()
    {
        Twin x = Upload(new double[37]);
        Twin y = Upload(TestArrays.Constant(37, double.NaN));
        Twin norm = Upload([double.NaN]);
        Twin dy = Upload(TestArrays.Uniform(new Random(37), 37, -1.0, 1.0));
        Twin dx = Upload(TestArrays.Constant(37, double.NaN));

        Run(b => b.FrobeniusNormalize(x[b], y[b], norm[b]));
        Run(b => b.FrobeniusNormalizeBackward(y[b], dy[b], norm[b], dx[b]));

        AssertMatches(y, "FrobeniusNormalize of zeros: y");
        AssertMatches(norm, "FrobeniusNormalize of zeros: norm");
        AssertMatches(dx, "FrobeniusNormalizeBackward at norm 0: dx");
    }

    [Theory]
    [TestClassData(nameof(MatchShapes))]
    public void MatchLoss_MatchesOracle(int p, int m, int l)
    {
        var rng = new Random(p * m + l);
        double[] z = TestArrays.Uniform(rng, p * m, -1.0, 1.0);
        double[] e = TestArrays.Uniform(rng, p * l, -2.0, 2.0);
        double dLossValue = TestArrays.Uniform(rng, 1, 0.5, 2.0)[0];
        Twin zs = Upload(z);
        Twin es = Upload(e);
        Twin loss = Upload([double.NaN]);
        Twin dLoss = Upload([dLossValue]);
        Twin dz = Upload(TestArrays.Constant(p * m, double.NaN));

        Run(b => b.MatchLossForward(zs[b], es[b], p, m, l, loss[b]));
        Run(b => b.MatchLossBackward(zs[b], es[b], p, m, l, dLoss[b], dz[b]));

        // Every quantity below passes through at most p² + max(m, l) + p + 10 rounded steps:
        // the p²-term Frobenius sums dominate, then the distance sums and the final dz sums.
        int operations = p * p + Math.Max(m, l) + p + 10;
        double relativeError = Tolerance.Allowance(0.0, operations, 1.0) - Tolerance.Absolute;
        var bound = new MatchLossBound(z, e, p, m, l, dLossValue, relativeError);
        string shape = $"p {p}, m {m}, l {l}";
        AssertMatches(loss, $"MatchLossForward {shape}", operations, [bound.Loss]);
        AssertMatches(dz, $"MatchLossBackward {shape}", operations, bound.Dz);
    }

    /// <summary>SD_ij = 2(||x_i||² + ||x_j||²), the magnitude behind a float D_ij.</summary>
    private static double[] SpreadBound(double[] x, int p, int dim)
    {
        double[] squares = Map(
            p,
            i => Enumerable.Range(0, dim).Sum(k => x[i * dim + k] * x[i * dim + k]));
        return Map(p * p, ij => 2.0 * (squares[ij / p] + squares[ij % p]));
    }

    /// <summary>2 Σ_j absS_ij·(|x_ik| + |x_jk|), the magnitude behind a float dx_ik.</summary>
    private static double[] DistanceBackwardBound(double[] absS, double[] x, int p, int dim)
    {
        return Map(
            p * dim,
            ik =>
            {
                int i = ik / dim, k = ik % dim;
                double sum = 0.0;
                for (int j = 0; j < p; j++)
                {
                    sum += 2.0 * absS[i * p + j] * (Math.Abs(x[ik]) + Math.Abs(x[j * dim + k]));
                }

                return sum;
            });
    }

    /// <summary>
    /// First-order magnitudes for the matching loss: each step of the loss and its gradient
    /// (see Scalar/Distance.cs for the formulas) with every rounded quantity replaced by the
    /// magnitude its rounding error is proportional to.
    /// </summary>
    private sealed class MatchLossBound
    {
        // relativeError is the error per unit of magnitude the caller allows; the loss needs it
        // for its one second-order term.
        public MatchLossBound(
            double[] z,
            double[] e,
            int p,
            int m,
            int l,
            double dLoss,
            double relativeError)
        {
            Side zSide = new(z, p, m);
            Side eSide = new(e, p, l);
            double pp = (double)p * p;

            // L = Σ (ñE − ñZ)²/p². A term with difference error δ moves by 2|ñE − ñZ|·δ + δ²;
            // the δ² part matters where ñE ≈ ñZ (at p = 2 both are [0 1; 1 0]/√2 and L = 0),
            // so it is kept, with δ = relativeError·(M^E + M^Z).
            double loss = 0.0;
            double lossMagnitude = 0.0;
            for (int ij = 0; ij < p * p; ij++)
            {
                double diff = eSide.Normalised[ij] - zSide.Normalised[ij];
                double magnitude = eSide.Magnitude[ij] + zSide.Magnitude[ij];
                loss += diff * diff / pp;
                double termError = 2.0 * Math.Abs(diff) + relativeError * magnitude;
                lossMagnitude += termError * magnitude / pp;
            }

            Loss = loss + lossMagnitude;

            // G = dLoss·(−2/p²)(ñE − ñZ), with magnitude MG.
            var g = new double[p * p];
            var mg = new double[p * p];
            double dot = 0.0;
            for (int ij = 0; ij < p * p; ij++)
            {
                g[ij] = dLoss * -2.0 / pp * (eSide.Normalised[ij] - zSide.Normalised[ij]);
                mg[ij] = Math.Abs(dLoss) * 2.0 / pp * (eSide.Magnitude[ij] + zSide.Magnitude[ij]);
                dot += g[ij] * zSide.Normalised[ij];
            }

            // ⟨G, ñZ⟩ with magnitude Mdot.
            double mdot = 0.0;
            for (int ij = 0; ij < p * p; ij++)
            {
                mdot += mg[ij] * Math.Abs(zSide.Normalised[ij])
                    + Math.Abs(g[ij]) * zSide.Magnitude[ij];
            }

            // dD = (G − ñZ·⟨G, ñZ⟩)/||D^Z||, plus the error of the norm it divides by.
            var mdD = new double[p * p];
            for (int ij = 0; ij < p * p; ij++)
            {
                double dD = (g[ij] - zSide.Normalised[ij] * dot) / zSide.Norm;
                mdD[ij] = (mg[ij] + zSide.Magnitude[ij] * Math.Abs(dot)
                        + Math.Abs(zSide.Normalised[ij]) * mdot) / zSide.Norm
                    + Math.Abs(dD) * zSide.NormMagnitude / zSide.Norm;
            }

            // dz_i = 2 Σ_j (dD_ij + dD_ji)(z_i − z_j), with dD carrying its magnitude.
            double[] absS = Map(p * p, ij => mdD[ij] + mdD[ij % p * p + ij / p]);
            Dz = DistanceBackwardBound(absS, z, p, m);
        }

        public double Loss { get; }

        public double[] Dz { get; }

        /// <summary>One side of the loss: D, its norm and ñ = D/||D||, with magnitudes.</summary>
        private sealed class Side
        {
            public Side(double[] x, int p, int dim)
            {
                double[] spread = SpreadBound(x, p, dim);
                var d = new double[p * p];
                for (int i = 0; i < p; i++)
                {
                    for (int j = 0; j < p; j++)
                    {
                        d[i * p + j] = Enumerable.Range(0, dim)
                            .Sum(k => Math.Pow(x[i * dim + k] - x[j * dim + k], 2));
                    }
                }

                Norm = Math.Sqrt(d.Sum(v => v * v));

                // ||D|| moves by about ||SD|| (errors of D) plus ||D|| (its own p² squares).
                NormMagnitude = Math.Sqrt(spread.Sum(v => v * v)) + Norm;
                Normalised = d.Select(v => v / Norm).ToArray();
                Magnitude = Map(
                    p * p,
                    ij => (spread[ij] + Math.Abs(Normalised[ij]) * NormMagnitude) / Norm
                        + Math.Abs(Normalised[ij]));
            }

            public double Norm { get; }

            public double NormMagnitude { get; }

            public double[] Normalised { get; }

            public double[] Magnitude { get; }
        }
    }
}
