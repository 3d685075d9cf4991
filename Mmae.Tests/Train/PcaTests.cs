using Mmae.Train.Embeddings;
using Xunit;
using static Mmae.Tests.Train.TrainTestSupport;

namespace Mmae.Tests.Train;

public sealed class PcaTests
{
    // The inputs are float32, so the data deviates from the exact construction by about
    // 6e-8 relative; variances and directions then agree to a few times that.
    private const double FloatInputTolerance = 1e-5;

    // Against a double-precision covariance of the same float data there is no input
    // rounding left, only summation order and eigensolver rounding.
    private const double DoubleTolerance = 1e-10;

    [Fact]
    public void Fit_KnownOrthonormalDirections_RecoversVariancesAndDirections()
    {
        // x_i = m + Σ_c a_c H[i, c] q_c with H a Sylvester Hadamard matrix (columns orthogonal,
        // zero-sum, Σ H² = n) and q_c orthonormal, so the sample covariance is exactly
        // Σ_c a_c² n / (n - 1) q_c q_c^T: eigenvalues a_c² n / (n - 1), eigenvectors q_c.
        const int n = 64;
        const int d = 12;
        double[] amplitudes = [5, 3, 2, 1.5, 0.5];
        int k = amplitudes.Length;
        double[] q = Orthonormal(k, d, seed: 41);
        int[,] h = Hadamard(n);
        double[] mean = Enumerable.Range(0, d).Select(j => 0.25 * j - 1).ToArray();
        float[] x = new float[n * d];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++)
            {
                double v = mean[j];
                for (int c = 0; c < k; c++)
                {
                    v += amplitudes[c] * h[i, c + 1] * q[c * d + j];
                }

                x[i * d + j] = (float)v;
            }
        }

        Pca pca = Pca.Fit(x, n, d, k);

        for (int c = 0; c < k; c++)
        {
            double expected = amplitudes[c] * amplitudes[c] * n / (n - 1);
            AssertClose(expected, pca.ExplainedVariance[c], FloatInputTolerance, $"variance {c}");
            double[] expectedDirection = SignFixed(q.AsSpan(c * d, d).ToArray());
            for (int j = 0; j < d; j++)
            {
                AssertClose(expectedDirection[j], pca.Components[c * d + j],
                    FloatInputTolerance, $"component {c}, entry {j}");
            }
        }

        for (int j = 0; j < d; j++)
        {
            AssertClose(mean[j], pca.Mean[j], FloatInputTolerance, $"mean {j}");
        }
    }

    [Fact]
    public void Fit_RandomData_EigenvaluesMatchJacobiOnCovariance()
    {
        const int n = 40;
        const int d = 9;
        float[] x = RandomData(n, d, seed: 42);

        Pca pca = Pca.Fit(x, n, d, d);

        double[] expected = SymmetricEigenTests.JacobiEigenvalues(Covariance(x, n, d), d);
        for (int c = 0; c < d; c++)
        {
            AssertClose(expected[c], pca.ExplainedVariance[c], DoubleTolerance, $"eigenvalue {c}");
        }
    }

    [Fact]
    public void Fit_NegatedData_GivesSameComponentSigns()
    {
        const int n = 50;
        const int d = 8;
        float[] x = RandomData(n, d, seed: 43);
        float[] negated = x.Select(v => -v).ToArray();

        Pca first = Pca.Fit(x, n, d, 4);
        Pca again = Pca.Fit(x, n, d, 4);
        Pca flipped = Pca.Fit(negated, n, d, 4);

        Assert.Equal(first.Components, again.Components);
        for (int i = 0; i < first.Components.Length; i++)
        {
            AssertClose(first.Components[i], flipped.Components[i], DoubleTolerance,
                $"component entry {i}");
        }

        for (int c = 0; c < 4; c++)
        {
            double largest = first.Components.AsSpan(c * d, d).ToArray().MaxBy(Math.Abs);
            Assert.True(largest > 0, $"component {c}: largest entry {largest}");
        }
    }

    [Fact]
    public void Transform_TrainingData_ProjectionVariancesEqualExplainedVariance()
    {
        const int n = 200;
        const int d = 10;
        float[] x = RandomData(n, d, seed: 44);
        Pca pca = Pca.Fit(x, n, d, 3);

        float[] y = pca.Transform(x, n);

        Assert.Equal(n * 3, y.Length);
        for (int c = 0; c < 3; c++)
        {
            double sum = 0;
            double sumSquares = 0;
            for (int i = 0; i < n; i++)
            {
                sum += y[i * 3 + c];
                sumSquares += (double)y[i * 3 + c] * y[i * 3 + c];
            }

            // y is rounded to float, so agreement is to float precision.
            Assert.True(Math.Abs(sum / n) < FloatInputTolerance, $"mean of column {c}");
            AssertClose(pca.ExplainedVariance[c], sumSquares / (n - 1), FloatInputTolerance,
                $"variance of column {c}");
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(6)]
    public void Fit_ComponentsOutOfRange_ThrowsArgumentOutOfRange(int components)
    {
        float[] x = RandomData(5, 8, seed: 45);

        var ex = Assert.Throws<ArgumentOutOfRangeException>(
            () => Pca.Fit(x, 5, 8, components));

        Assert.Contains("1..min(n, d) = 1..5", ex.Message);
    }

    [Fact]
    public void Fit_LengthMismatch_ThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(() => Pca.Fit(new float[10], 3, 4, 1));

        Assert.Contains("expected x of 12 values", ex.Message);
    }

    [Fact]
    public void Fit_NaNInput_ThrowsArgumentException()
    {
        float[] x = RandomData(4, 3, seed: 47);
        x[7] = float.NaN;

        var ex = Assert.Throws<ArgumentException>(() => Pca.Fit(x, 4, 3, 1));

        Assert.Contains("x[7] is NaN", ex.Message);
    }

    [Fact]
    public void Transform_WrongWidth_ThrowsArgumentException()
    {
        Pca pca = Pca.Fit(RandomData(10, 4, seed: 46), 10, 4, 2);

        Assert.Throws<ArgumentException>(() => pca.Transform(new float[15], 3));
    }

    private static float[] RandomData(int n, int d, int seed)
    {
        var random = new Random(seed);
        float[] x = new float[n * d];
        for (int i = 0; i < x.Length; i++)
        {
            // Unequal scales per feature keep the eigenvalues well separated.
            x[i] = (float)((1 + i % d) * random.NextGaussian() + 0.5);
        }

        return x;
    }

    private static double[] Covariance(float[] x, int n, int d)
    {
        double[] mean = new double[d];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++)
            {
                mean[j] += x[i * d + j] / (double)n;
            }
        }

        double[] cov = new double[d * d];
        for (int a = 0; a < d; a++)
        {
            for (int b = 0; b < d; b++)
            {
                double s = 0;
                for (int i = 0; i < n; i++)
                {
                    s += (x[i * d + a] - mean[a]) * (x[i * d + b] - mean[b]);
                }

                cov[a * d + b] = s / (n - 1);
            }
        }

        return cov;
    }

    private static double[] Orthonormal(int k, int d, int seed)
    {
        // Gram-Schmidt on Gaussian rows.
        var random = new Random(seed);
        double[] q = new double[k * d];
        for (int c = 0; c < k; c++)
        {
            Span<double> row = q.AsSpan(c * d, d);
            for (int j = 0; j < d; j++)
            {
                row[j] = random.NextGaussian();
            }

            for (int p = 0; p < c; p++)
            {
                ReadOnlySpan<double> prev = q.AsSpan(p * d, d);
                double dot = 0;
                for (int j = 0; j < d; j++)
                {
                    dot += row[j] * prev[j];
                }

                for (int j = 0; j < d; j++)
                {
                    row[j] -= dot * prev[j];
                }
            }

            double norm = Math.Sqrt(row.ToArray().Sum(v => v * v));
            for (int j = 0; j < d; j++)
            {
                row[j] /= norm;
            }
        }

        return q;
    }

    private static int[,] Hadamard(int n)
    {
        var h = new int[n, n];
        h[0, 0] = 1;
        for (int size = 1; size < n; size *= 2)
        {
            for (int i = 0; i < size; i++)
            {
                for (int j = 0; j < size; j++)
                {
                    h[i, j + size] = h[i, j];
                    h[i + size, j] = h[i, j];
                    h[i + size, j + size] = -h[i, j];
                }
            }
        }

        return h;
    }

    private static double[] SignFixed(double[] v)
    {
        double largest = v.MaxBy(Math.Abs);
        return largest < 0 ? v.Select(e => -e).ToArray() : v;
    }

    private static void AssertClose(double expected, double actual, double tolerance,
        string what)
    {
        double bound = tolerance * Math.Max(1.0, Math.Abs(expected));
        Assert.True(Math.Abs(expected - actual) <= bound,
            $"{what}: expected {expected}, actual {actual}, diff {Math.Abs(expected - actual)}");
    }
}

public class TopEigenTests
{
    // A covariance with a decaying spectrum and a near tie further down: the leading pairs of
    // subspace iteration must be the full decomposition's.
    [Theory]
    [InlineData(120, 5, 1)]
    [InlineData(300, 12, 2)]
    public void TopEigen_MatchesFullDecomposition(int d, int k, int seed)
    {
        var rng = new Random(seed);
        int n = d + 50;
        var x = new double[n * d];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++)
            {
                x[i * d + j] = rng.NextGaussian() * Math.Pow(0.93, j) + 0.01 * rng.NextGaussian();
            }
        }

        var c = new double[d * d];
        for (int a = 0; a < d; a++)
        {
            for (int b = 0; b < d; b++)
            {
                double s = 0;
                for (int i = 0; i < n; i++)
                {
                    s += x[i * d + a] * x[i * d + b];
                }

                c[a * d + b] = s / n;
            }
        }

        var full = Mmae.Train.Embeddings.SymmetricEigen.Decompose(c, d);
        (double[] values, double[] vectors) = Mmae.Train.Embeddings.TopEigen.Compute(c, d, k);

        for (int r = 0; r < k; r++)
        {
            Assert.Equal(full.Values[r], values[r], 1e-9 * full.Values[0]);
            double dot = 0;
            for (int j = 0; j < d; j++)
            {
                dot += full.Vectors[r * d + j] * vectors[r * d + j];
            }

            Assert.True(dot > 1 - 1e-8, $"vector {r}: |cos| = {dot}");
        }
    }

    [Fact]
    public void Pca_Wide_UsesSubspaceIteration_OnlyForFewComponents()
    {
        Assert.True(Mmae.Train.Embeddings.Pca.UseSubspace(4096, 100));
        Assert.False(Mmae.Train.Embeddings.Pca.UseSubspace(784, 50));
        Assert.False(Mmae.Train.Embeddings.Pca.UseSubspace(4096, 1000));
    }
}
