using Mmae.Train.Embeddings;
using Xunit;

namespace Mmae.Tests.Train;

public sealed class NearestNeighboursTests
{
    // Float distances against a double brute force: a few ulps of values around 10.
    private const float DistanceTolerance = 1e-4f;

    // The bar for the approximate search.
    private const double MinRecall = 0.95;

    [Theory]
    [InlineData(300, 17, 10)]
    [InlineData(97, 784, 1)]
    [InlineData(40, 5, 39)]
    public void Exact_RandomPoints_MatchesBruteForce(int n, int d, int k)
    {
        float[] x = EmbeddingTestData.Uniform(n, d, seed: n + d);

        NeighbourGraph graph = NearestNeighbours.Exact(x, n, d, k, threads: 2);

        for (int i = 0; i < n; i++)
        {
            (int[] expected, double[] dist) = BruteForce(x, n, d, i, k);
            Assert.Equal(expected, graph.Row(i).ToArray());
            for (int s = 0; s < k; s++)
            {
                Assert.True(Math.Abs(dist[s] - graph.RowDistances(i)[s]) <= DistanceTolerance,
                    $"point {i}, neighbour {s}: expected {dist[s]}, got {graph.RowDistances(i)[s]}");
            }
        }
    }

    [Fact]
    public void Exact_DuplicatePoints_BreaksTiesByIndex()
    {
        // Points 0, 2 and 4 coincide; 1 and 3 are elsewhere.
        float[] x = [0, 0, 5, 5, 0, 0, 5, 6, 0, 0];

        NeighbourGraph graph = NearestNeighbours.Exact(x, 5, 2, 2, threads: 1);

        Assert.Equal(new[] { 2, 4 }, graph.Row(0).ToArray());
        Assert.Equal(new[] { 0, 2 }, graph.Row(4).ToArray());
        Assert.Equal(0f, graph.RowDistances(0)[1]);
    }

    [Fact]
    public void Descent_Blobs_AgreesWithExactOnMostNeighbours()
    {
        const int k = 10;
        (float[] x, _) = EmbeddingTestData.Blobs(clusters: 6, perCluster: 100, dim: 30, spread: 3, seed: 5);
        int n = x.Length / 30;

        NeighbourGraph exact = NearestNeighbours.Exact(x, n, 30, k, threads: 2);
        NeighbourGraph approx = NearestNeighbours.Find(x, n, 30, k, NeighbourSearch.Descent, seed: 1, threads: 2);

        long agree = 0;
        for (int i = 0; i < n; i++)
        {
            int[] truth = exact.Row(i).ToArray();
            agree += approx.Row(i).ToArray().Count(truth.Contains);
        }

        double recall = (double)agree / (n * k);
        Assert.True(recall >= MinRecall, $"descent found {recall:P1} of the exact neighbours");
    }

    [Fact]
    public void Descent_Rows_AreSortedDistinctAndExcludeSelf()
    {
        float[] x = EmbeddingTestData.Uniform(200, 8, seed: 3);

        NeighbourGraph graph = NearestNeighbours.Find(x, 200, 8, 12, NeighbourSearch.Descent, seed: 2, threads: 2);

        for (int i = 0; i < 200; i++)
        {
            int[] row = graph.Row(i).ToArray();
            Assert.DoesNotContain(i, row);
            Assert.Equal(row.Length, row.Distinct().Count());
            float[] dist = graph.RowDistances(i).ToArray();
            Assert.Equal(dist.Order().ToArray(), dist);
        }
    }

    [Theory]
    [InlineData(NeighbourSearch.Exact)]
    [InlineData(NeighbourSearch.Descent)]
    public void Find_OneAndTwoThreads_GiveTheSameGraph(NeighbourSearch search)
    {
        float[] x = EmbeddingTestData.Uniform(400, 12, seed: 9);

        NeighbourGraph one = NearestNeighbours.Find(x, 400, 12, 15, search, seed: 4, threads: 1);
        NeighbourGraph two = NearestNeighbours.Find(x, 400, 12, 15, search, seed: 4, threads: 2);

        Assert.Equal(one.Indices, two.Indices);
        Assert.Equal(one.Distances, two.Distances);
    }

    [Fact]
    public void Exact_KNotBelowN_Throws()
    {
        float[] x = EmbeddingTestData.Uniform(10, 3, seed: 1);

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => NearestNeighbours.Exact(x, 10, 3, 10, 1));
        Assert.Contains("1..9", ex.Message);
    }

    private static (int[] Index, double[] Dist) BruteForce(float[] x, int n, int d, int i, int k)
    {
        var all = new List<(double Dist, int J)>();
        for (int j = 0; j < n; j++)
        {
            if (j == i)
            {
                continue;
            }

            double sum = 0;
            for (int c = 0; c < d; c++)
            {
                double diff = (double)x[i * d + c] - x[j * d + c];
                sum += diff * diff;
            }

            all.Add((Math.Sqrt(sum), j));
        }

        var best = all.OrderBy(p => p.Dist).ThenBy(p => p.J).Take(k).ToArray();
        return (best.Select(p => p.J).ToArray(), best.Select(p => p.Dist).ToArray());
    }
}
