using Mmae.Train.Embeddings;
using Xunit;

namespace Mmae.Tests.Train;

public sealed class UmapTests
{
    [Fact]
    public void Graph_RandomPoints_IsSymmetricWithMembershipsInUnitInterval()
    {
        float[] x = EmbeddingTestData.Uniform(300, 5, seed: 61);
        NeighbourGraph knn = NearestNeighbours.Exact(x, 300, 5, 14, threads: 2);

        SparseMatrix graph = UmapGraph.Build(knn, localConnectivity: 1, threads: 2);

        for (int i = 0; i < graph.Size; i++)
        {
            for (int e = graph.RowStart[i]; e < graph.RowStart[i + 1]; e++)
            {
                int j = graph.Columns[e];
                Assert.NotEqual(i, j);
                Assert.InRange(graph.Values[e], 0.0, 1.0);
                Assert.Equal(graph.Values[e], graph[j, i]);
            }

            // Local connectivity 1: the nearest neighbour is fully connected.
            Assert.Equal(1.0, graph[i, knn.Row(i)[0]]);
        }
    }

    [Fact]
    public void Bandwidth_RandomDistances_HitsLog2OfNeighbourCount()
    {
        var random = new Random(62);
        float[] dist = Enumerable.Range(0, 14).Select(_ => (float)(1 + 3 * random.NextDouble())).Order().ToArray();
        double rho = UmapGraph.LocalOffset(dist, 1);

        double sigma = UmapGraph.Bandwidth(dist, rho, Math.Log2(15));

        double sum = dist.Sum(d => d - rho > 0 ? Math.Exp(-(d - rho) / sigma) : 1);
        Assert.Equal(Math.Log2(15), sum, 4);
        Assert.Equal(dist[0], rho);
    }

    [Fact]
    public void LocalOffset_FractionalConnectivity_InterpolatesAndSkipsZeros()
    {
        float[] dist = [0, 0, 2, 4, 8];

        Assert.Equal(3.0, UmapGraph.LocalOffset(dist, 1.5), 12);
        Assert.Equal(1.0, UmapGraph.LocalOffset(dist, 0.5), 12);
        Assert.Equal(8.0, UmapGraph.LocalOffset(dist, 5), 12);
    }

    [Theory]
    [InlineData(1.0, 0.1)]
    [InlineData(1.0, 0.5)]
    [InlineData(2.0, 0.0)]
    public void FitCurve_IsALeastSquaresMinimum(double spread, double minDist)
    {
        (double a, double b) = UmapLayout.FitCurve(spread, minDist);

        double[] xs = Enumerable.Range(0, 300).Select(s => 3 * spread * s / 299).ToArray();
        double[] ys = xs.Select(x => x < minDist ? 1 : Math.Exp(-(x - minDist) / spread)).ToArray();
        double best = UmapLayout.CurveCost(xs, ys, a, b);
        foreach ((double da, double db) in new[] { (1e-3, 0.0), (-1e-3, 0.0), (0.0, 1e-3), (0.0, -1e-3) })
        {
            Assert.True(UmapLayout.CurveCost(xs, ys, a + da, b + db) > best,
                $"a = {a}, b = {b} is not a minimum: moving by ({da}, {db}) lowers the cost");
        }

        Assert.True(a > 0 && b > 0);
    }

    [Fact]
    public void SpectralLayout_RandomGraph_VectorsAreEigenvectorsOrthogonalToTheTrivialOne()
    {
        float[] x = EmbeddingTestData.Uniform(120, 3, seed: 63);
        SparseMatrix w = UmapGraph.Build(NearestNeighbours.Exact(x, 120, 3, 9, 1), 1, 1);

        double[]? y = SpectralLayout.Embed(w, dims: 2, seed: 1, threads: 2);

        Assert.NotNull(y);
        double[] degree = Enumerable.Range(0, 120).Select(i => RowSum(w, i)).ToArray();
        for (int c = 0; c < 2; c++)
        {
            double[] v = Enumerable.Range(0, 120).Select(i => y![i * 2 + c]).ToArray();
            Assert.Equal(1.0, v.Sum(t => t * t), 8);
            Assert.Equal(0.0, v.Select((t, i) => t * Math.Sqrt(degree[i])).Sum(), 6);

            // M v = λ v with M = D^-1/2 W D^-1/2 and λ the Rayleigh quotient.
            double[] mv = new double[120];
            for (int i = 0; i < 120; i++)
            {
                for (int e = w.RowStart[i]; e < w.RowStart[i + 1]; e++)
                {
                    int j = w.Columns[e];
                    mv[i] += w.Values[e] * v[j] / Math.Sqrt(degree[i] * degree[j]);
                }
            }

            double lambda = v.Zip(mv, (a, b) => a * b).Sum();
            double residual = Math.Sqrt(v.Zip(mv, (a, b) => (b - lambda * a) * (b - lambda * a)).Sum());
            Assert.True(residual < 1e-3, $"vector {c}: residual {residual} for eigenvalue {lambda}");
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(5)]
    public void Embed_SeparatedBlobs_KeepsEveryClusterApart(int dims)
    {
        (float[] x, int[] labels) = EmbeddingTestData.Blobs(clusters: 5, perCluster: 60, dim: 10, spread: 10, seed: 64);

        float[] y = Umap.Embed(x, labels.Length, 10, dims, new UmapOptions { Epochs = 200 }, threads: 2);

        EmbeddingTestData.AssertClustersApart(y, dims, labels, $"UMAP {dims}-D");
    }

    [Fact]
    public void Embed_SameSeedOneOrTwoThreads_GivesTheSameEmbedding()
    {
        (float[] x, _) = EmbeddingTestData.Blobs(clusters: 3, perCluster: 100, dim: 8, spread: 4, seed: 65);
        var options = new UmapOptions { Epochs = 100, Seed = 3, Search = NeighbourSearch.Descent };

        float[] one = Umap.Embed(x, 300, 8, 2, options, threads: 1);
        float[] two = Umap.Embed(x, 300, 8, 2, options, threads: 2);
        float[] again = Umap.Embed(x, 300, 8, 2, options, threads: 2);

        Assert.Equal(one, two);
        Assert.Equal(two, again);
    }

    [Fact]
    public void Embed_DifferentSeed_GivesADifferentEmbedding()
    {
        (float[] x, _) = EmbeddingTestData.Blobs(clusters: 3, perCluster: 50, dim: 8, spread: 4, seed: 66);

        float[] a = Umap.Embed(x, 150, 8, 2, new UmapOptions { Epochs = 50, Seed = 1 }, threads: 2);
        float[] b = Umap.Embed(x, 150, 8, 2, new UmapOptions { Epochs = 50, Seed = 2 }, threads: 2);

        Assert.NotEqual(a, b);
    }

    [Fact]
    public void Embed_DimensionOutOfRange_ThrowsNamingTheRange()
    {
        float[] x = EmbeddingTestData.Uniform(50, 3, seed: 1);

        var ex = Assert.Throws<NotSupportedException>(() => Umap.Embed(x, 50, 3, 101, new UmapOptions(), 1));
        Assert.Contains("2 to 100", ex.Message);
    }

    private static double RowSum(SparseMatrix w, int i)
    {
        double sum = 0;
        for (int e = w.RowStart[i]; e < w.RowStart[i + 1]; e++)
        {
            sum += w.Values[e];
        }

        return sum;
    }
}
