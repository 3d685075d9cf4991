using Xunit;

namespace Mmae.Tests.Train;

/// <summary>Small inputs and checks shared by the t-SNE, UMAP and neighbour-search tests.</summary>
internal static class EmbeddingTestData
{
    /// <summary>Gaussian blobs: `clusters` centres drawn with std `spread` per axis, each with
    /// `perCluster` points of unit std around it; rows are interleaved (point i belongs to
    /// blob i mod clusters), so no method can profit from the row order.</summary>
    public static (float[] X, int[] Labels) Blobs(int clusters, int perCluster, int dim, double spread,
        int seed)
    {
        var random = new Random(seed);
        double[] centres = new double[clusters * dim];
        for (int e = 0; e < centres.Length; e++)
        {
            centres[e] = spread * random.NextGaussian();
        }

        int n = clusters * perCluster;
        float[] x = new float[n * dim];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            labels[i] = i % clusters;
            for (int j = 0; j < dim; j++)
            {
                x[i * dim + j] = (float)(centres[labels[i] * dim + j] + random.NextGaussian());
            }
        }

        return (x, labels);
    }

    /// <summary>Uniform random points in [−1, 1), never all equal.</summary>
    public static float[] Uniform(int n, int dim, int seed)
    {
        var random = new Random(seed);
        float[] x = new float[n * dim];
        for (int e = 0; e < x.Length; e++)
        {
            x[e] = (float)(2 * random.NextDouble() - 1);
        }

        return x;
    }

    /// <summary>Asserts that every blob is apart from the others in the embedding: the closest
    /// pair of points from different blobs is farther apart than any point is from its nearest
    /// neighbour in its own blob.</summary>
    public static void AssertClustersApart(float[] y, int dims, int[] labels, string method)
    {
        int n = labels.Length;
        Assert.All(y, v => Assert.True(float.IsFinite(v), $"{method}: non-finite coordinate"));
        double between = double.PositiveInfinity;
        double within = 0;
        (int, int) closest = default;
        for (int i = 0; i < n; i++)
        {
            double nearestSame = double.PositiveInfinity;
            for (int j = 0; j < n; j++)
            {
                if (j == i)
                {
                    continue;
                }

                double d = 0;
                for (int c = 0; c < dims; c++)
                {
                    double diff = y[i * dims + c] - y[j * dims + c];
                    d += diff * diff;
                }

                d = Math.Sqrt(d);
                if (labels[i] == labels[j])
                {
                    nearestSame = Math.Min(nearestSame, d);
                }
                else if (d < between)
                {
                    between = d;
                    closest = (i, j);
                }
            }

            within = Math.Max(within, nearestSame);
        }

        Assert.True(between > within,
            $"{method}: points {closest.Item1} (blob {labels[closest.Item1]}) and {closest.Item2} "
            + $"(blob {labels[closest.Item2]}) are {between:G4} apart, but some point's nearest "
            + $"neighbour in its own blob is {within:G4} away");
    }
}
