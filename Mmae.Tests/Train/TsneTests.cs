using Mmae.Train.Embeddings;
using Xunit;

namespace Mmae.Tests.Train;

public sealed class TsneTests
{
    // Central differences of the float64 KL cost with step 1e-5 are good to about 1e-8
    // relative; the bar leaves room for cancellation in the sums.
    private const double GradientTolerance = 1e-6;

    // The tree sums its bodies in 8-wide float lanes: relative error about 1e-6 of the sum of
    // the terms' magnitudes; the bar allows ten times that.
    private const double FloatSumTolerance = 1e-5;

    // θ = 0.5 errs by a few percent per point (van der Maaten 2014); measured on the norm of
    // all forces together it stays near 1%.
    private const double BarnesHutTolerance = 0.03;

    [Theory]
    [InlineData(5.0, 50)]
    [InlineData(30.0, 90)]
    [InlineData(2.0, 7)]
    public void ConditionalRow_RandomDistances_HitsTargetEntropy(double perplexity, int count)
    {
        var random = new Random(count);
        double[] squared = Enumerable.Range(0, count).Select(_ => 50 + 200 * random.NextDouble()).ToArray();
        double[] p = new double[count];

        double beta = TsneAffinities.ConditionalRow(squared, perplexity, p);

        double entropy = -p.Where(v => v > 0).Sum(v => v * Math.Log(v));
        Assert.True(Math.Abs(entropy - Math.Log(perplexity)) <= TsneAffinities.EntropyTolerance * 1.01,
            $"entropy {entropy}, target ln({perplexity}) = {Math.Log(perplexity)}");
        Assert.Equal(1.0, p.Sum(), 12);
        Assert.True(beta > 0);
    }

    [Fact]
    public void Sparse_FromNeighbours_IsSymmetricAndSumsToOne()
    {
        float[] x = EmbeddingTestData.Uniform(200, 6, seed: 11);
        NeighbourGraph graph = NearestNeighbours.Exact(x, 200, 6, 30, threads: 2);

        SparseMatrix p = TsneAffinities.Sparse(graph, 10, threads: 2);

        Assert.Equal(1.0, p.Sum(), 12);
        for (int i = 0; i < p.Size; i++)
        {
            for (int e = p.RowStart[i]; e < p.RowStart[i + 1]; e++)
            {
                Assert.NotEqual(i, p.Columns[e]);
                Assert.Equal(p.Values[e], p[p.Columns[e], i]);
            }
        }
    }

    [Fact]
    public void ExactGradient_MatchesFiniteDifferencesOfKl()
    {
        const int n = 12, dims = 2;
        float[] x = EmbeddingTestData.Uniform(n, 4, seed: 21);
        double[] p = TsneAffinities.Dense(x, n, 4, perplexity: 3, threads: 1);
        var random = new Random(22);
        double[] y = Enumerable.Range(0, n * dims).Select(_ => random.NextGaussian()).ToArray();
        double[] dy = new double[n * dims];

        new ExactTsneGradient(p, n, dims, threads: 1).Compute(y, exaggeration: 1, dy);

        const double h = 1e-5;
        for (int e = 0; e < y.Length; e++)
        {
            double keep = y[e];
            y[e] = keep + h;
            double up = Kl(p, y, n, dims);
            y[e] = keep - h;
            double down = Kl(p, y, n, dims);
            y[e] = keep;
            double numeric = (up - down) / (2 * h);
            Assert.True(Math.Abs(numeric - dy[e]) <= GradientTolerance * (1 + Math.Abs(numeric)),
                $"coordinate {e}: finite difference {numeric}, gradient {dy[e]}");
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void BarnesHut_ThetaZero_EqualsDirectSums(int dims)
    {
        const int n = 150;
        double[] y = RandomLayout(n, dims, seed: 31);
        (double[] force, double z, double[] magnitude) = Direct(y, n, dims);

        (double[] bhForce, double bhZ) = BarnesHut(y, n, dims, theta: 0);

        Assert.True(Math.Abs(z - bhZ) <= FloatSumTolerance * z, $"Z: direct {z}, tree {bhZ}");
        for (int e = 0; e < force.Length; e++)
        {
            Assert.True(Math.Abs(force[e] - bhForce[e]) <= FloatSumTolerance * magnitude[e],
                $"entry {e}: direct {force[e]}, tree {bhForce[e]}, terms' magnitude {magnitude[e]}");
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void BarnesHut_ThetaHalf_IsCloseToDirectSums(int dims)
    {
        const int n = 400;
        double[] y = RandomLayout(n, dims, seed: 32);
        (double[] force, double z, _) = Direct(y, n, dims);

        (double[] bhForce, double bhZ) = BarnesHut(y, n, dims, theta: 0.5);

        Assert.True(Math.Abs(bhZ - z) <= BarnesHutTolerance * z, $"Z: direct {z}, tree {bhZ}");
        double err = Math.Sqrt(force.Zip(bhForce, (a, b) => (a - b) * (a - b)).Sum());
        double norm = Math.Sqrt(force.Sum(v => v * v));
        Assert.True(err <= BarnesHutTolerance * norm, $"force error {err} against norm {norm}");
    }

    [Theory]
    [InlineData(TsneMethod.Exact, 2)]
    [InlineData(TsneMethod.BarnesHut, 2)]
    [InlineData(TsneMethod.BarnesHut, 3)]
    public void Embed_SeparatedBlobs_KeepsEveryClusterApart(TsneMethod method, int dims)
    {
        (float[] x, int[] labels) = EmbeddingTestData.Blobs(clusters: 5, perCluster: 60, dim: 10, spread: 10, seed: 41);
        var options = new TsneOptions { Perplexity = 15, Method = method, Iterations = 500 };

        float[] y = Tsne.Embed(x, labels.Length, 10, dims, options, threads: 2);

        EmbeddingTestData.AssertClustersApart(y, dims, labels, $"t-SNE {method} {dims}-D");
    }

    [Theory]
    [InlineData(TsneMethod.Exact)]
    [InlineData(TsneMethod.BarnesHut)]
    public void Embed_SameSeedOneOrTwoThreads_GivesTheSameEmbedding(TsneMethod method)
    {
        (float[] x, _) = EmbeddingTestData.Blobs(clusters: 3, perCluster: 80, dim: 8, spread: 4, seed: 51);
        var options = new TsneOptions
        {
            Perplexity = 10, Method = method, Iterations = 300, Init = TsneInit.Random, Seed = 7,
        };

        float[] one = Tsne.Embed(x, 240, 8, 2, options, threads: 1);
        float[] two = Tsne.Embed(x, 240, 8, 2, options, threads: 2);
        float[] again = Tsne.Embed(x, 240, 8, 2, options, threads: 2);

        Assert.Equal(one, two);
        Assert.Equal(two, again);
    }

    [Fact]
    public void Embed_FourDimensions_ThrowsNamingTheSupportedOnes()
    {
        float[] x = EmbeddingTestData.Uniform(50, 3, seed: 1);

        var ex = Assert.Throws<NotSupportedException>(() => Tsne.Embed(x, 50, 3, 4, new TsneOptions(), 1));
        Assert.Contains("2 or 3", ex.Message);
    }

    [Fact]
    public void Embed_PerplexityTooLarge_Throws()
    {
        float[] x = EmbeddingTestData.Uniform(20, 3, seed: 1);

        var ex = Assert.Throws<ArgumentException>(
            () => Tsne.Embed(x, 20, 3, 2, new TsneOptions { Perplexity = 30 }, 1));
        Assert.Contains("perplexity", ex.Message);
    }

    private static double[] RandomLayout(int n, int dims, int seed)
    {
        var random = new Random(seed);

        // Two clumps and a spread, so the tree has both dense and empty cells.
        return Enumerable.Range(0, n * dims)
            .Select(e => (e / dims % 3 == 0 ? 5 : 0) + (e / dims % 3 == 2 ? 10 : 1) * random.NextGaussian())
            .ToArray();
    }

    // F_i = Σ_j q² (y_i − y_j), Z = Σ q, and Σ_j |q² (y_i − y_j)| per entry.
    private static (double[] Force, double Z, double[] Magnitude) Direct(double[] y, int n, int dims)
    {
        double[] force = new double[n * dims];
        double[] magnitude = new double[n * dims];
        double z = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                if (i == j)
                {
                    continue;
                }

                double d2 = SquaredDistance(y, i, j, dims);
                double q = 1 / (1 + d2);
                z += q;
                for (int c = 0; c < dims; c++)
                {
                    force[i * dims + c] += q * q * (y[i * dims + c] - y[j * dims + c]);
                    magnitude[i * dims + c] += Math.Abs(q * q * (y[i * dims + c] - y[j * dims + c]));
                }
            }
        }

        return (force, z, magnitude);
    }

    private static (double[] Force, double Z) BarnesHut(double[] y, int n, int dims, double theta)
    {
        double[] force = new double[n * dims];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = 2 };
        double z;
        if (dims == 2)
        {
            var tree = new BarnesHutTree<Plane>(n);
            tree.Build(y);
            z = tree.Repulsion(theta, force, parallel);
        }
        else
        {
            var tree = new BarnesHutTree<Space>(n);
            tree.Build(y);
            z = tree.Repulsion(theta, force, parallel);
        }

        return (force, z);
    }

    private static double SquaredDistance(double[] y, int i, int j, int dims)
    {
        double d2 = 0;
        for (int c = 0; c < dims; c++)
        {
            d2 += (y[i * dims + c] - y[j * dims + c]) * (y[i * dims + c] - y[j * dims + c]);
        }

        return d2;
    }

    // KL(P || Q) = Σ p_ij ln(p_ij / q_ij) over i ≠ j, in double.
    private static double Kl(double[] p, double[] y, int n, int dims)
    {
        double z = 0;
        double[] w = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                if (i == j)
                {
                    continue;
                }

                double d2 = SquaredDistance(y, i, j, dims);
                w[i * n + j] = 1 / (1 + d2);
                z += w[i * n + j];
            }
        }

        double kl = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double pij = p[i * n + j];
                if (i != j && pij > 0)
                {
                    kl += pij * Math.Log(pij / (w[i * n + j] / z));
                }
            }
        }

        return kl;
    }
}
