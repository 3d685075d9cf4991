using Mmae.Train.Metrics;
using Xunit;
using static Mmae.Tests.Train.TrainTestSupport;

namespace Mmae.Tests.Train;

public sealed class NeighbourhoodMetricsTests
{
    // Both implementations sum the same integers; the only rounding is in the final
    // normalisation, a handful of double operations.
    private const double Tolerance = 1e-12;

    [Theory]
    [InlineData(40, 10, 2, 51)]
    [InlineData(61, 7, 3, 52)]
    [InlineData(25, 33, 2, 53)]
    public void Compute_RandomData_MatchesBruteForce(int n, int highDim, int lowDim, int seed)
    {
        var random = new Random(seed);
        float[] high = Gaussian(random, n * highDim);

        // A noisy linear projection: neighbourhoods partly kept, so T and C are not trivial.
        float[] low = new float[n * lowDim];
        for (int i = 0; i < n; i++)
        {
            for (int c = 0; c < lowDim; c++)
            {
                low[i * lowDim + c] = high[i * highDim + c] + (float)(0.7 * random.NextGaussian());
            }
        }

        int[] ks = [1, 3, 5, (n - 1) / 2];

        var results = NeighbourhoodMetrics.Compute(high, highDim, low, lowDim, n, ks);

        Assert.Equal(ks.Length, results.Count);
        for (int e = 0; e < ks.Length; e++)
        {
            (double trust, double cont, _, _) = BruteForce(high, highDim, low, lowDim, n, ks[e]);
            Assert.Equal(ks[e], results[e].K);
            Assert.True(Math.Abs(trust - results[e].Trustworthiness) <= Tolerance,
                $"k = {ks[e]}: trustworthiness expected {trust}, "
                + $"actual {results[e].Trustworthiness}");
            Assert.True(Math.Abs(cont - results[e].Continuity) <= Tolerance,
                $"k = {ks[e]}: continuity expected {cont}, actual {results[e].Continuity}");
            Assert.InRange(trust, 0.0, 0.9999);
        }
    }

    [Fact]
    public void Compute_IdentityEmbedding_GivesExactlyOne()
    {
        const int n = 80;
        const int dim = 5;
        float[] x = Gaussian(new Random(54), n * dim);

        var results = NeighbourhoodMetrics.Compute(x, dim, (float[])x.Clone(), dim, n,
            [1, 7, 39]);

        Assert.All(results, r =>
        {
            Assert.Equal(1.0, r.Trustworthiness);
            Assert.Equal(1.0, r.Continuity);
        });
    }

    [Fact]
    public void Compute_TiedDistances_BreaksTiesByIndexAndMatchesBruteForce()
    {
        // Points on a small integer grid: many exactly equal distances in both spaces.
        const int n = 30;
        var random = new Random(55);
        float[] high = Enumerable.Range(0, n * 3).Select(_ => (float)random.Next(3)).ToArray();
        float[] low = Enumerable.Range(0, n * 2).Select(_ => (float)random.Next(2)).ToArray();

        var first = NeighbourhoodMetrics.ComputeScores(high, 3, low, 2, n, [4, 10]);
        var second = NeighbourhoodMetrics.ComputeScores(high, 3, low, 2, n, [10, 4]);

        Assert.Equal(first[0], second[1]);
        Assert.Equal(first[1], second[0]);
        for (int e = 0; e < 2; e++)
        {
            NeighbourhoodScores s = first[e];
            var (trust, cont, latentToData, dataToLatent) = BruteForce(high, 3, low, 2, n, s.K);
            Assert.True(Math.Abs(trust - s.Trustworthiness) <= Tolerance);
            Assert.True(Math.Abs(cont - s.Continuity) <= Tolerance);
            Assert.True(Math.Abs(latentToData - s.MrreLatentToData) <= Tolerance,
                $"k = {s.K}: MRRE Z->X expected {latentToData}, actual {s.MrreLatentToData}");
            Assert.True(Math.Abs(dataToLatent - s.MrreDataToLatent) <= Tolerance,
                $"k = {s.K}: MRRE X->Z expected {dataToLatent}, actual {s.MrreDataToLatent}");
            Assert.InRange(latentToData, 0.01, 1.0);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10)]
    [InlineData(11)]
    public void Compute_KNotBelowHalfN_ThrowsArgumentOutOfRange(int k)
    {
        float[] x = Gaussian(new Random(56), 20 * 2);

        var ex = Assert.Throws<ArgumentOutOfRangeException>(
            () => NeighbourhoodMetrics.Compute(x, 2, x, 2, 20, [1, k]));

        Assert.Contains($"k = {k} must satisfy 1 <= k < n/2 = 10", ex.Message);
    }

    [Fact]
    public void Compute_LowLengthMismatch_ThrowsArgumentException()
    {
        float[] high = Gaussian(new Random(57), 20 * 4);

        var ex = Assert.Throws<ArgumentException>(
            () => NeighbourhoodMetrics.Compute(high, 4, new float[39], 2, 20, [3]));

        Assert.Contains("expected low of 40 values", ex.Message);
    }

    [Fact]
    public void Compute_TooFewPointsOrNoK_Throws()
    {
        float[] x = Gaussian(new Random(58), 10 * 2);

        Assert.Throws<ArgumentOutOfRangeException>(
            () => NeighbourhoodMetrics.Compute(x[..4], 2, x[..4], 2, 2, [1]));
        Assert.Throws<ArgumentException>(
            () => NeighbourhoodMetrics.Compute(x, 2, x, 2, 10, []));
    }

    [Fact]
    public void Compute_NaNInHigh_ThrowsArgumentException()
    {
        float[] x = Gaussian(new Random(59), 10 * 2);
        float[] high = (float[])x.Clone();
        high[5] = float.NaN;

        var ex = Assert.Throws<ArgumentException>(
            () => NeighbourhoodMetrics.Compute(high, 2, x, 2, 10, [2]));

        Assert.Contains("high[5] is NaN", ex.Message);
    }

    /// <summary>Straight from the definition: r(i, j) = 1 + #{l ≠ i : (d_il, l) &lt; (d_ij, j)}
    /// in each space, neighbour sets by rank ≤ k, O(n³); the MRREs with their normaliser
    /// c_k = n Σ_{j ≤ k} |2j − n − 1| / j.</summary>
    private static (double Trust, double Cont, double MrreZx, double MrreXz) BruteForce(float[] high, int highDim,
        float[] low, int lowDim, int n, int k)
    {
        int[,] rankHigh = Ranks(high, highDim, n);
        int[,] rankLow = Ranks(low, lowDim, n);
        long trust = 0;
        long cont = 0;
        double mrreZx = 0;
        double mrreXz = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                if (j == i)
                {
                    continue;
                }

                bool nearHigh = rankHigh[i, j] <= k;
                bool nearLow = rankLow[i, j] <= k;
                if (nearLow && !nearHigh)
                {
                    trust += rankHigh[i, j] - k;
                }

                if (nearHigh && !nearLow)
                {
                    cont += rankLow[i, j] - k;
                }

                double rankError = Math.Abs(rankHigh[i, j] - rankLow[i, j]);
                mrreZx += nearLow ? rankError / rankLow[i, j] : 0;
                mrreXz += nearHigh ? rankError / rankHigh[i, j] : 0;
            }
        }

        double norm = 2.0 / (n * k * (2.0 * n - 3.0 * k - 1.0));
        double worst = n * Enumerable.Range(1, k).Sum(j => Math.Abs(2.0 * j - n - 1) / j);
        return (1 - norm * trust, 1 - norm * cont, mrreZx / worst, mrreXz / worst);
    }

    private static int[,] Ranks(float[] x, int dim, int n)
    {
        var dist = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int c = 0; c < dim; c++)
                {
                    double diff = (double)x[i * dim + c] - x[j * dim + c];
                    s += diff * diff;
                }

                dist[i, j] = Math.Sqrt(s);
            }
        }

        var rank = new int[n, n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                if (j == i)
                {
                    continue;
                }

                int closer = 0;
                for (int l = 0; l < n; l++)
                {
                    if (l != i && (dist[i, l] < dist[i, j] || (dist[i, l] == dist[i, j] && l < j)))
                    {
                        closer++;
                    }
                }

                rank[i, j] = closer + 1;
            }
        }

        return rank;
    }

    private static float[] Gaussian(Random random, int count) =>
        Enumerable.Range(0, count).Select(_ => (float)random.NextGaussian()).ToArray();
}
