using Mmae.Engine;
using Xunit;

namespace Mmae.Tests.Engine;

/// <summary>
/// The convolutional ops against central finite differences and against their definitions,
/// everything in float64 on the scalar oracle backend.
/// </summary>
public class ConvGradientTests
{
    // Forward values and the adjoint identity are sums of at most a few hundred float64
    // products of O(1) values: 1e-12 leaves room for their rounding and nothing else.
    private const double ExactTolerance = 1e-12;

    // N, C, H, W, out channels, kernel, stride, padding: stride 1 and 2, no padding and
    // padding up to k − 1, odd and even sides, non-square images, windows that skip the last
    // row or column (stride 2 over an even padded side).
    public static TheoryData<int, int, int, int, int, int, int, int> ConvShapes() => new()
    {
        { 2, 3, 5, 6, 4, 3, 1, 1 },
        { 2, 2, 7, 5, 3, 3, 2, 0 },
        { 1, 2, 6, 6, 2, 4, 2, 1 },
        { 3, 1, 5, 4, 2, 2, 2, 1 },
        { 1, 2, 4, 3, 3, 3, 1, 2 },
    };

    // N, C, H, W, out channels, kernel, stride, padding, output padding.
    public static TheoryData<int, int, int, int, int, int, int, int, int> TransposedShapes() => new()
    {
        { 2, 3, 3, 4, 2, 3, 1, 1, 0 },
        { 2, 2, 3, 3, 3, 4, 2, 1, 0 },
        { 1, 2, 2, 3, 2, 3, 2, 0, 1 },
        { 2, 1, 4, 3, 2, 3, 3, 1, 2 },
    };

    private static Tensor Head(Tensor y, int seed)
    {
        double[] values = GradientCheck.Random(new Rng((ulong)seed), y.Length);
        return Losses.Mse(y, Tensor.FromArray(GradientCheck.Backend, values, y.Shape));
    }

    [Theory]
    [MemberData(nameof(ConvShapes))]
    public void Conv2d_Gradients_MatchFiniteDifferences(int n, int c, int h, int w, int o, int k, int s, int p)
    {
        var rng = new Rng((ulong)(1000 + n * 100 + h * 10 + s));
        GradientCheck.Check(
            t => Head(Ops.Conv2d(t[0], t[1], t[2], s, p), 21),
            [GradientCheck.Random(rng, n * c * h * w), GradientCheck.Random(rng, o * c * k * k),
                GradientCheck.Random(rng, o)],
            [[n, c, h, w], [o, c, k, k], [o]]);
    }

    [Theory]
    [MemberData(nameof(TransposedShapes))]
    public void ConvTranspose2d_Gradients_MatchFiniteDifferences(
        int n, int c, int h, int w, int o, int k, int s, int p, int op)
    {
        var rng = new Rng((ulong)(2000 + n * 100 + h * 10 + s));
        GradientCheck.Check(
            t => Head(Ops.ConvTranspose2d(t[0], t[1], t[2], s, p, op), 22),
            [GradientCheck.Random(rng, n * c * h * w), GradientCheck.Random(rng, c * o * k * k),
                GradientCheck.Random(rng, o)],
            [[n, c, h, w], [c, o, k, k], [o]]);
    }

    [Theory]
    [MemberData(nameof(ConvShapes))]
    public void Conv2d_Forward_MatchesDefinition(int n, int c, int h, int w, int o, int k, int s, int p)
    {
        var rng = new Rng((ulong)(3000 + n * 100 + h * 10 + s));
        double[] x = GradientCheck.Random(rng, n * c * h * w);
        double[] wt = GradientCheck.Random(rng, o * c * k * k);
        double[] b = GradientCheck.Random(rng, o);
        var be = GradientCheck.Backend;

        double[] y = Ops.Conv2d(
            Tensor.FromArray(be, x, n, c, h, w), Tensor.FromArray(be, wt, o, c, k, k),
            Tensor.FromArray(be, b, o), s, p).ToDoubleArray();

        // y[n, o, oy, ox] = b[o] + Σ_{c, ky, kx} w[o, c, ky, kx]·x[n, c, oy·s − p + ky, ox·s − p + kx].
        int oh = (h + 2 * p - k) / s + 1, ow = (w + 2 * p - k) / s + 1;
        Assert.Equal(n * o * oh * ow, y.Length);
        for (int i = 0; i < y.Length; i++)
        {
            int ox = i % ow, oy = i / ow % oh, oc = i / (ow * oh) % o, ni = i / (ow * oh * o);
            double expected = b[oc];
            for (int ci = 0; ci < c; ci++)
            {
                for (int ky = 0; ky < k; ky++)
                {
                    for (int kx = 0; kx < k; kx++)
                    {
                        int iy = oy * s - p + ky, ix = ox * s - p + kx;
                        if (iy >= 0 && iy < h && ix >= 0 && ix < w)
                        {
                            expected += wt[((oc * c + ci) * k + ky) * k + kx] * x[((ni * c + ci) * h + iy) * w + ix];
                        }
                    }
                }
            }

            Assert.True(Math.Abs(expected - y[i]) <= ExactTolerance,
                $"index {i}: definition {expected:R}, Conv2d {y[i]:R}");
        }
    }

    [Theory]
    [MemberData(nameof(TransposedShapes))]
    public void ConvTranspose2d_IsAdjointOfConv2d(int n, int c, int h, int w, int o, int k, int s, int p, int op)
    {
        // ConvTranspose2d maps (N, C, H, W) to (N, O, OH, OW); Conv2d with the same weight read
        // as (C, O, k, k) maps back. Then ⟨convT(x), y⟩ = ⟨x, conv(y)⟩ for every x and y.
        var rng = new Rng((ulong)(4000 + n * 100 + h * 10 + s));
        var be = GradientCheck.Backend;
        var x = Tensor.FromArray(be, GradientCheck.Random(rng, n * c * h * w), n, c, h, w);
        var weight = GradientCheck.Random(rng, c * o * k * k);
        Tensor up = Ops.ConvTranspose2d(x, Tensor.FromArray(be, weight, c, o, k, k), null, s, p, op);
        var y = Tensor.FromArray(be, GradientCheck.Random(rng, up.Length), up.Shape);
        Tensor down = Ops.Conv2d(y, Tensor.FromArray(be, weight, c, o, k, k), null, s, p);

        Assert.Equal(x.Shape, down.Shape);
        double left = Dot(up.ToDoubleArray(), y.ToDoubleArray());
        double right = Dot(x.ToDoubleArray(), down.ToDoubleArray());
        Assert.True(Math.Abs(left - right) <= ExactTolerance * (1 + Math.Abs(left)),
            $"⟨convT(x), y⟩ = {left:R}, ⟨x, conv(y)⟩ = {right:R}");
    }

    [Fact]
    public void BatchNorm2d_Training_GradientsMatchFiniteDifferences()
    {
        var rng = new Rng(5);
        int n = 2, c = 3, h = 3, w = 2;
        GradientCheck.Check(t =>
        {
            var rm = Tensor.Zeros(GradientCheck.Backend, c);
            var rv = Tensor.FromArray(GradientCheck.Backend, Enumerable.Repeat(1.0, c).ToArray(), c);
            return Head(Ops.BatchNorm2d(t[0], t[1], t[2], rm, rv, true, 0.1f, 1e-5f), 23);
        }, [GradientCheck.Random(rng, n * c * h * w, 2.0), GradientCheck.Random(rng, c), GradientCheck.Random(rng, c)],
            [[n, c, h, w], [c], [c]]);
    }

    [Fact]
    public void LeakyRelu_Gradient_MatchesFiniteDifferencesAwayFromZero()
    {
        double[] x = GradientCheck.Random(new Rng(6), 40);
        for (int i = 0; i < x.Length; i++)
        {
            // At least 0.1 from the kink, where the derivative is undefined.
            x[i] = x[i] >= 0 ? x[i] + 0.1 : x[i] - 0.1;
        }

        GradientCheck.Check(t => Head(Ops.LeakyRelu(t[0], 0.2f), 24), [x], [[2, 4, 5]]);
    }

    [Fact]
    public void Dropout_FixedMask_GradientMatchesFiniteDifferences()
    {
        // A generator with the same seed on every evaluation draws the same mask.
        GradientCheck.Check(
            t => Head(Ops.Dropout(t[0], 0.4, new Rng(77), training: true), 25),
            [GradientCheck.Random(new Rng(7), 48)],
            [[4, 12]]);
    }

    [Fact]
    public void Reshape_Gradient_MatchesFiniteDifferences()
    {
        GradientCheck.Check(
            t => Head(Ops.Reshape(Ops.Tanh(t[0]), 3, 2, 2), 26),
            [GradientCheck.Random(new Rng(8), 12)],
            [[3, 4]]);
    }

    private static double Dot(double[] a, double[] b) => a.Zip(b, (u, v) => u * v).Sum();
}
