using Mmae.Train.Metrics;
using Xunit;

namespace Mmae.Tests.Train;

public sealed class TrustworthinessTests
{
    // Float input distances against the metric's double ones: a rank can flip only for points
    // within ~1e-6 of each other, which moves T by at most about 1e-5 at these sizes.
    private const double Tolerance = 1e-5;

    [Theory]
    [InlineData(200, 30, 2, 10)]
    [InlineData(301, 7, 3, 1)]
    [InlineData(64, 784, 2, 31)]
    public void Compute_RandomEmbedding_MatchesTheFullMetric(int n, int highDim, int lowDim, int k)
    {
        float[] high = EmbeddingTestData.Uniform(n, highDim, seed: n);

        // A noisy projection: related to the input, so T is neither 1 nor at chance.
        var random = new Random(n + 1);
        float[] low = new float[n * lowDim];
        for (int i = 0; i < n; i++)
        {
            for (int c = 0; c < lowDim; c++)
            {
                low[i * lowDim + c] = high[i * highDim + c] + 0.3f * (float)random.NextGaussian();
            }
        }

        double fast = Trustworthiness.Compute(high, highDim, low, lowDim, n, k, threads: 2);

        double full = NeighbourhoodMetrics.Compute(high, highDim, low, lowDim, n, [k])[0].Trustworthiness;
        Assert.True(Math.Abs(fast - full) <= Tolerance, $"fast {fast}, full {full}");
        Assert.InRange(full, 0.5, 0.999);
    }

    [Fact]
    public void Compute_TiedDistances_RanksByIndexLikeTheFullMetric()
    {
        // A grid: many exactly equal distances in both spaces.
        const int n = 36;
        float[] high = new float[n * 2];
        float[] low = new float[n * 2];
        for (int i = 0; i < n; i++)
        {
            (high[2 * i], high[2 * i + 1]) = (i % 6, i / 6);
            (low[2 * i], low[2 * i + 1]) = (i / 6, (i * 7) % 6);
        }

        double fast = Trustworthiness.Compute(high, 2, low, 2, n, 4, threads: 1);

        Assert.Equal(NeighbourhoodMetrics.Compute(high, 2, low, 2, n, [4])[0].Trustworthiness, fast, 12);
    }

    [Fact]
    public void Compute_KTooLarge_Throws()
    {
        float[] x = EmbeddingTestData.Uniform(10, 2, seed: 1);

        Assert.Throws<ArgumentOutOfRangeException>(() => Trustworthiness.Compute(x, 2, x, 2, 10, 5, 1));
    }
}
