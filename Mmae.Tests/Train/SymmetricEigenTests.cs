using Mmae.Train.Embeddings;
using Xunit;
using static Mmae.Tests.Train.TrainTestSupport;

namespace Mmae.Tests.Train;

public sealed class SymmetricEigenTests
{
    // Eigenvalues of a well-scaled matrix are backward stable to a few ulps of its norm;
    // 1e-12 relative to the norm allows for the O(n) rounding steps of either method.
    private const double EigenvalueTolerance = 1e-12;

    // A v = λ v and V V^T = I hold to rounding times a small multiple of n.
    private const double ResidualTolerance = 1e-12;

    [Theory]
    [InlineData(1, 11)]
    [InlineData(2, 12)]
    [InlineData(7, 13)]
    [InlineData(12, 14)]
    [InlineData(33, 15)]
    public void Decompose_RandomSymmetric_MatchesJacobiEigenvalues(int n, int seed)
    {
        double[] a = RandomSymmetric(n, seed);

        SymmetricEigen eigen = SymmetricEigen.Decompose(a, n);
        double[] expected = JacobiEigenvalues(a, n);

        double norm = a.Max(Math.Abs);
        for (int i = 0; i < n; i++)
        {
            double diff = Math.Abs(eigen.Values[i] - expected[i]);
            Assert.True(diff <= EigenvalueTolerance * norm * n,
                $"eigenvalue {i}: expected {expected[i]}, actual {eigen.Values[i]}, diff {diff}");
        }

        AssertEigenpairs(a, n, eigen);
    }

    [Fact]
    public void Decompose_RankDeficientWithZeroRows_ConvergesToEigenpairs()
    {
        // Like a pixel covariance: rank 10 of 150, every third row and column exactly zero.
        const int n = 150;
        const int rank = 10;
        var random = new Random(21);
        double[] b = new double[n * rank];
        for (int i = 0; i < n; i++)
        {
            for (int c = 0; c < rank; c++)
            {
                b[i * rank + c] = i % 3 == 0 ? 0 : random.NextGaussian();
            }
        }

        double[] a = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int c = 0; c < rank; c++)
                {
                    s += b[i * rank + c] * b[j * rank + c];
                }

                a[i * n + j] = s;
            }
        }

        SymmetricEigen eigen = SymmetricEigen.Decompose(a, n);

        AssertEigenpairs(a, n, eigen);
        Assert.True(eigen.Values[rank - 1] > 1e-3);
        Assert.True(Math.Abs(eigen.Values[rank]) < 1e-10 * eigen.Values[0]);
    }

    [Fact]
    public void Decompose_RepeatedEigenvalues_ReturnsOrthonormalBasis()
    {
        const int n = 6;
        double[] a = new double[n * n];
        double[] diagonal = [2, 5, 2, 5, 2, -1];
        for (int i = 0; i < n; i++)
        {
            a[i * n + i] = diagonal[i];
        }

        SymmetricEigen eigen = SymmetricEigen.Decompose(a, n);

        Assert.Equal([5.0, 5, 2, 2, 2, -1], eigen.Values);
        AssertEigenpairs(a, n, eigen);
    }

    [Fact]
    public void Decompose_Vectors_HaveLargestEntryPositive()
    {
        const int n = 20;
        double[] a = RandomSymmetric(n, 31);
        for (int i = 0; i < a.Length; i++)
        {
            a[i] = -a[i];
        }

        SymmetricEigen eigen = SymmetricEigen.Decompose(a, n);

        for (int r = 0; r < n; r++)
        {
            ReadOnlySpan<double> v = eigen.Vectors.AsSpan(r * n, n);
            double largest = v.ToArray().MaxBy(Math.Abs);
            Assert.True(largest > 0, $"vector {r}: largest entry {largest}");
        }
    }

    [Fact]
    public void Decompose_NotSymmetric_ThrowsArgumentException()
    {
        double[] a = [1, 2, 3, 4];

        var ex = Assert.Throws<ArgumentException>(() => SymmetricEigen.Decompose(a, 2));

        Assert.Contains("not symmetric", ex.Message);
    }

    [Fact]
    public void Decompose_WrongLength_ThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(() => SymmetricEigen.Decompose([1, 2, 3], 2));

        Assert.Contains("expected 4 values", ex.Message);
    }

    [Fact]
    public void Decompose_ZeroSize_ThrowsArgumentOutOfRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SymmetricEigen.Decompose([], 0));
    }

    [Fact]
    public void Decompose_Infinity_ThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(
            () => SymmetricEigen.Decompose([1, 0, 0, double.PositiveInfinity], 2));

        Assert.Contains("matrix[3]", ex.Message);
    }

    private static double[] RandomSymmetric(int n, int seed)
    {
        var random = new Random(seed);
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j <= i; j++)
            {
                double v = random.NextGaussian();
                a[i * n + j] = v;
                a[j * n + i] = v;
            }
        }

        return a;
    }

    private static void AssertEigenpairs(double[] a, int n, SymmetricEigen eigen)
    {
        double norm = Math.Max(1e-300, a.Max(Math.Abs));
        for (int r = 0; r < n; r++)
        {
            ReadOnlySpan<double> v = eigen.Vectors.AsSpan(r * n, n);
            for (int i = 0; i < n; i++)
            {
                double av = 0;
                for (int j = 0; j < n; j++)
                {
                    av += a[i * n + j] * v[j];
                }

                double residual = Math.Abs(av - eigen.Values[r] * v[i]);
                Assert.True(residual <= ResidualTolerance * norm * n,
                    $"pair {r}, row {i}: |Av - λv| = {residual}");
            }

            for (int s = 0; s <= r; s++)
            {
                double dot = 0;
                for (int j = 0; j < n; j++)
                {
                    dot += v[j] * eigen.Vectors[s * n + j];
                }

                double expected = r == s ? 1 : 0;
                Assert.True(Math.Abs(dot - expected) <= ResidualTolerance * n,
                    $"vectors {r}, {s}: dot {dot}, expected {expected}");
            }
        }

        for (int r = 1; r < n; r++)
        {
            Assert.True(eigen.Values[r - 1] >= eigen.Values[r], "values not descending");
        }
    }

    /// <summary>Brute-force cyclic Jacobi: rotate away each off-diagonal entry until none is
    /// left; returns the diagonal sorted descending.</summary>
    internal static double[] JacobiEigenvalues(double[] matrix, int n)
    {
        double[] a = (double[])matrix.Clone();
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0;
            for (int p = 0; p < n; p++)
            {
                for (int q = p + 1; q < n; q++)
                {
                    off += a[p * n + q] * a[p * n + q];
                }
            }

            if (off < 1e-300)
            {
                break;
            }

            for (int p = 0; p < n; p++)
            {
                for (int q = p + 1; q < n; q++)
                {
                    double apq = a[p * n + q];
                    if (apq == 0)
                    {
                        continue;
                    }

                    // Angle that zeroes a[p, q]: tan(2θ) = 2 a_pq / (a_qq - a_pp).
                    double theta = 0.5 * Math.Atan2(2 * apq, a[q * n + q] - a[p * n + p]);
                    double c = Math.Cos(theta);
                    double s = Math.Sin(theta);
                    for (int k = 0; k < n; k++)
                    {
                        double akp = a[k * n + p];
                        double akq = a[k * n + q];
                        a[k * n + p] = c * akp - s * akq;
                        a[k * n + q] = s * akp + c * akq;
                    }

                    for (int k = 0; k < n; k++)
                    {
                        double apk = a[p * n + k];
                        double aqk = a[q * n + k];
                        a[p * n + k] = c * apk - s * aqk;
                        a[q * n + k] = s * apk + c * aqk;
                    }
                }
            }
        }

        double[] values = new double[n];
        for (int i = 0; i < n; i++)
        {
            values[i] = a[i * n + i];
        }

        return values.OrderDescending().ToArray();
    }
}
