using Mmae.Kernels;
using Xunit;

namespace Mmae.Tests.Kernels;

// The convolution kernels: im2col/col2im lowering, axis swap, per-channel bias and sums,
// BatchNorm2d, LeakyReLU and the elementwise product. x: (N, C, H, W); cols: (C·k², N·OH·OW);
// channel tensors: (N, C, S) with S = H·W.
public abstract partial class BackendParityTests
{
    /// <summary>
    /// (N, C, H, W, k, s, p): a single pixel, stride 1 and 2, no padding and padding up to
    /// k − 1, odd sides, a window with stride 3 that skips columns, and dSprites' second layer
    /// shape at batch 2 (32 channels of 32×32, 4×4, stride 2, padding 1), and lines of 16 and
    /// 40 whose stride-2 runs reach the end of the line (the CPU's end-of-line vector step).
    /// </summary>
    public static TheoryData<int, int, int, int, int, int, int> ConvGeometries() => new()
    {
        { 1, 1, 1, 1, 1, 1, 0 },
        { 2, 3, 5, 7, 3, 1, 1 },
        { 3, 2, 7, 6, 4, 2, 1 },
        { 1, 2, 9, 8, 3, 3, 2 },
        { 2, 1, 6, 5, 2, 2, 0 },
        { 2, 32, 32, 32, 4, 2, 1 },
        { 1, 1, 16, 16, 2, 2, 0 },
        { 2, 3, 11, 40, 4, 2, 1 },
    };

    /// <summary>(N, C, S): one value per channel but two samples, a single channel, SIMD tails,
    /// and more than one 256-element GPU group per channel.</summary>
    public static TheoryData<int, int, int> ChannelShapes() => new()
    {
        { 2, 1, 1 },
        { 1, 3, 2 },
        { 3, 5, 17 },
        { 4, 2, 300 },
    };

    [Theory]
    [MemberData(nameof(ConvGeometries))]
    public void Im2Col_MatchesOracle(int n, int c, int h, int w, int k, int s, int p)
    {
        ConvGeometry g = Geometry(n, c, h, w, k, s, p);
        Twin x = Upload(TestArrays.Uniform(new Random(n * h + w), g.InputLength, -1.0, 1.0));
        Twin cols = Upload(TestArrays.Constant(g.ColumnRows * g.ColumnCols, double.NaN));

        Run(b => b.Im2Col(x[b], g, cols[b]));

        // Copies and zeros only.
        AssertMatches(cols, $"Im2Col {g}");
    }

    [Theory]
    [MemberData(nameof(ConvGeometries))]
    public void Col2Im_MatchesOracle(int n, int c, int h, int w, int k, int s, int p)
    {
        ConvGeometry g = Geometry(n, c, h, w, k, s, p);
        double[] values = TestArrays.Uniform(new Random(n * h + w + 1), g.ColumnRows * g.ColumnCols, -1.0, 1.0);
        Twin cols = Upload(values);
        Twin x = Upload(TestArrays.Constant(g.InputLength, double.NaN));

        Run(b => b.Col2Im(cols[b], g, x[b]));

        // Each input element sums at most k² entries of magnitude ≤ 1.
        AssertMatches(x, $"Col2Im {g}", k * k, TestArrays.Constant(g.InputLength, k * k));
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(3, 5, 1)]
    [InlineData(4, 3, 17)]
    [InlineData(32, 2, 64)]
    public void SwapLeadingAxes_MatchesOracle(int rows, int cols, int inner)
    {
        Twin src = Upload(TestArrays.Uniform(new Random(rows + cols + inner), rows * cols * inner, -1.0, 1.0));
        Twin dst = Upload(TestArrays.Constant(rows * cols * inner, double.NaN));

        Run(b => b.SwapLeadingAxes(src[b], rows, cols, inner, dst[b]));

        AssertMatches(dst, $"SwapLeadingAxes {rows}×{cols}×{inner}");
    }

    [Theory]
    [MemberData(nameof(ChannelShapes))]
    public void AddChannelBias_MatchesOracle(int n, int c, int s)
    {
        var rng = new Random(n * c * s);
        double[] x = TestArrays.Uniform(rng, n * c * s, -1.0, 1.0);
        double[] bias = TestArrays.Uniform(rng, c, -1.0, 1.0);
        Twin xs = Upload(x);
        Twin biases = Upload(bias);

        Run(b => b.AddChannelBias(xs[b], biases[b], n, c, s));

        double[] scale = Map(x.Length, i => Math.Abs(x[i]) + Math.Abs(bias[i / s % c]));
        AssertMatches(xs, $"AddChannelBias {n}×{c}×{s}", 1, scale);
    }

    [Theory]
    [InlineData(2, 1, 1, false)]
    [InlineData(1, 3, 2, true)]
    [InlineData(3, 5, 17, true)]
    [InlineData(4, 2, 300, false)]
    [InlineData(64, 3, 40, true)]
    public void ChannelSums_MatchesOracle(int n, int c, int s, bool accumulate)
    {
        var rng = new Random(n + c + s);
        double[] x = TestArrays.Uniform(rng, n * c * s, -1.0, 1.0);
        double[] start = TestArrays.Uniform(rng, c, -1.0, 1.0);
        Twin xs = Upload(x);
        Twin dst = Upload(start);

        Run(b => b.ChannelSums(xs[b], n, c, s, dst[b], accumulate));

        // A sum of N·S terms (plus the old value when accumulating).
        double[] sumAbs = ChannelSumsOf(x.Select(Math.Abs).ToArray(), n, c, s);
        double[] scale = Map(c, j => sumAbs[j] + (accumulate ? Math.Abs(start[j]) : 0.0));
        AssertMatches(dst, $"ChannelSums {n}×{c}×{s}, accumulate {accumulate}", n * s + 1, scale);
    }

    [Theory]
    [MemberData(nameof(ChannelShapes))]
    public void BatchNorm2dForwardTrain_MatchesOracle(int n, int c, int s)
    {
        const float momentum = 0.1f, eps = 1e-5f;
        BatchNormInputs inputs = BatchNormInputs.Create(n * s, c, seed: 7 * n + s);
        double[] x = TestArrays.Uniform(new Random(n * s + c), n * c * s, -0.5, 1.5);
        Twin xs = Upload(x);
        Twin gamma = Upload(inputs.Gamma);
        Twin beta = Upload(inputs.Beta);
        Twin runningMean = Upload(inputs.RunningMean);
        Twin runningVar = Upload(inputs.RunningVar);
        Twin y = Upload(TestArrays.Constant(x.Length, double.NaN));
        Twin saveMean = Upload(TestArrays.Constant(c, double.NaN));
        Twin saveInvStd = Upload(TestArrays.Constant(c, double.NaN));

        Run(b => b.BatchNorm2dForwardTrain(
            xs[b], n, c, s, gamma[b], beta[b], runningMean[b], runningVar[b], momentum, eps, y[b],
            saveMean[b], saveInvStd[b]));

        // As BatchNormForwardTrain on the (N·S)×C matrix of the same values; see that test.
        int count = n * s;
        ColumnStats stats = ColumnStats.Of(ChannelsLast(x, n, c, s), count, c);
        double[] mean = Expected(saveMean);
        double[] inv = Expected(saveInvStd);
        string shape = $"{n}×{c}×{s}";
        AssertMatches(saveMean, $"BatchNorm2d saveMean {shape}", count + 1, stats.MeanAbs);
        AssertMatches(saveInvStd, $"BatchNorm2d saveInvStd {shape}", count + 3,
            Map(c, j => inv[j] * inv[j] * inv[j] * stats.MeanSquare[j]));
        double[] yScale = Map(x.Length, i =>
        {
            int j = i / s % c;
            double g = Math.Abs(inputs.Gamma[j]);
            double xHat = (x[i] - mean[j]) * inv[j];
            return g * inv[j] * (Math.Abs(x[i]) + stats.MeanAbs[j])
                + g * Math.Abs(xHat) * inv[j] * inv[j] * stats.MeanSquare[j] + Math.Abs(inputs.Beta[j]);
        });
        AssertMatches(y, $"BatchNorm2d y {shape}", count + 3, yScale);
        AssertMatches(runningMean, $"BatchNorm2d runningMean {shape}", count + 3,
            Map(c, j => (1.0 - momentum) * Math.Abs(inputs.RunningMean[j]) + momentum * stats.MeanAbs[j]));
        AssertMatches(runningVar, $"BatchNorm2d runningVar {shape}", count + 4,
            Map(c, j => (1.0 - momentum) * inputs.RunningVar[j]
                + momentum * stats.MeanSquare[j] * count / (count - 1.0)));
    }

    [Theory]
    [MemberData(nameof(ChannelShapes))]
    public void BatchNorm2dForwardEval_MatchesOracle(int n, int c, int s)
    {
        const float eps = 1e-5f;
        BatchNormInputs inputs = BatchNormInputs.Create(n * s, c, seed: 11 * n + s);
        double[] x = TestArrays.Uniform(new Random(n * s + c + 1), n * c * s, -0.5, 1.5);
        Twin xs = Upload(x);
        Twin gamma = Upload(inputs.Gamma);
        Twin beta = Upload(inputs.Beta);
        Twin runningMean = Upload(inputs.RunningMean);
        Twin runningVar = Upload(inputs.RunningVar);
        Twin y = Upload(TestArrays.Constant(x.Length, double.NaN));

        Run(b => b.BatchNorm2dForwardEval(
            xs[b], n, c, s, gamma[b], beta[b], runningMean[b], runningVar[b], eps, y[b]));

        // A subtraction, a (reciprocal) square root, two products and an add per element.
        double[] scale = Map(x.Length, i =>
        {
            int j = i / s % c;
            double inv = 1.0 / Math.Sqrt(inputs.RunningVar[j] + eps);
            return Math.Abs(inputs.Gamma[j]) * inv * (Math.Abs(x[i]) + Math.Abs(inputs.RunningMean[j]))
                + Math.Abs(inputs.Beta[j]);
        });
        AssertMatches(y, $"BatchNorm2dEval y {n}×{c}×{s}", 5, scale);
    }

    [Theory]
    [MemberData(nameof(ChannelShapes))]
    public void BatchNorm2dBackward_MatchesOracle(int n, int c, int s)
    {
        const float eps = 1e-5f;
        int count = n * s;
        BatchNormInputs inputs = BatchNormInputs.Create(count, c, seed: 13 * n + s);
        var rng = new Random(n * c * s + 5);
        double[] x = TestArrays.Uniform(rng, n * c * s, -0.5, 1.5);
        double[] dy = TestArrays.Uniform(rng, x.Length, -1.0, 1.0);
        double[] dGammaStart = TestArrays.Uniform(rng, c, -1.0, 1.0);
        double[] dBetaStart = TestArrays.Uniform(rng, c, -1.0, 1.0);

        // Saved statistics: the batch's own, rounded to float, handed to both backends alike.
        ColumnStats stats = ColumnStats.Of(ChannelsLast(x, n, c, s), count, c);
        double[] mean = stats.Mean.Select(v => (double)(float)v).ToArray();
        double[] inv = Map(c, j => (float)(1.0 / Math.Sqrt(stats.BiasedVar[j] + eps)));
        Twin xs = Upload(x);
        Twin dys = Upload(dy);
        Twin gamma = Upload(inputs.Gamma);
        Twin saveMean = Upload(mean);
        Twin saveInvStd = Upload(inv);
        Twin dx = Upload(TestArrays.Constant(x.Length, double.NaN));
        Twin dGamma = Upload(dGammaStart);
        Twin dBeta = Upload(dBetaStart);

        Run(b => b.BatchNorm2dBackward(
            xs[b], dys[b], n, c, s, gamma[b], saveMean[b], saveInvStd[b], dx[b], dGamma[b], dBeta[b]));

        // The allowances of BatchNormBackward_MatchesOracle with h = s·(|x| + |mean|) per element
        // and sums over each channel's N·S elements.
        double[] h = Map(x.Length, i => inv[i / s % c] * (Math.Abs(x[i]) + Math.Abs(mean[i / s % c])));
        double[] sumAbsDy = ChannelSumsOf(dy.Select(Math.Abs).ToArray(), n, c, s);
        double[] sumAbsDyH = ChannelSumsOf(Map(x.Length, i => Math.Abs(dy[i]) * h[i]), n, c, s);
        double[] dyXHat = Map(x.Length, i => dy[i] * (x[i] - mean[i / s % c]) * inv[i / s % c]);
        double[] sumDyXHat = ChannelSumsOf(dyXHat, n, c, s);
        double[] dxScale = Map(x.Length, i =>
        {
            int j = i / s % c;
            double xHat = Math.Abs((x[i] - mean[j]) * inv[j]);
            return Math.Abs(inputs.Gamma[j]) * inv[j]
                * (Math.Abs(dy[i]) + sumAbsDy[j] / count + xHat * sumAbsDyH[j] / count
                    + h[i] * Math.Abs(sumDyXHat[j]) / count);
        });
        string shape = $"{n}×{c}×{s}";
        AssertMatches(dx, $"BatchNorm2dBackward dx {shape}", count + 4, dxScale);
        AssertMatches(dGamma, $"BatchNorm2dBackward dGamma {shape}", count + 2,
            Map(c, j => Math.Abs(dGammaStart[j]) + sumAbsDyH[j]));
        AssertMatches(dBeta, $"BatchNorm2dBackward dBeta {shape}", count + 1,
            Map(c, j => Math.Abs(dBetaStart[j]) + sumAbsDy[j]));
    }

    [Fact]
    public void LeakyRelu_EveryLength_MatchesOracle()
    {
        const float slope = 0.2f;
        foreach (int n in ElementwiseLengths)
        {
            var rng = new Random(n);
            Twin x = Upload(TestArrays.AwayFromZero(rng, n, 0.01, 2.0));
            Twin dy = Upload(TestArrays.Uniform(rng, n, -1.0, 1.0));
            Twin y = Upload(TestArrays.Constant(n, double.NaN));
            Twin dx = Upload(TestArrays.Constant(n, double.NaN));

            Run(b => b.LeakyRelu(x[b], slope, y[b]));
            Run(b => b.LeakyReluBackward(x[b], dy[b], slope, dx[b]));

            // One product at most.
            AssertMatches(y, $"LeakyRelu, length {n}");
            AssertMatches(dx, $"LeakyReluBackward, length {n}");
        }
    }

    [Fact]
    public void Multiply_EveryLength_MatchesOracle()
    {
        foreach (int n in ElementwiseLengths)
        {
            var rng = new Random(n + 1);
            Twin a = Upload(TestArrays.Uniform(rng, n, -2.0, 2.0));
            Twin b = Upload(TestArrays.Uniform(rng, n, -2.0, 2.0));
            Twin dst = Upload(TestArrays.Constant(n, double.NaN));

            Run(be => be.Multiply(a[be], b[be], dst[be]));

            AssertMatches(dst, $"Multiply, length {n}");
        }
    }

    private static ConvGeometry Geometry(int n, int c, int h, int w, int k, int s, int p) =>
        new(n, c, h, w, k, s, p, ConvGeometry.OutputSize(h, k, s, p), ConvGeometry.OutputSize(w, k, s, p));

    // (N, C, S) → (N·S, C): each channel becomes a column, as BatchNorm1d's tests see it.
    private static double[] ChannelsLast(double[] x, int n, int c, int s) =>
        Map(x.Length, rj => x[(rj / c / s * c + rj % c) * s + rj / c % s]);

    private static double[] ChannelSumsOf(double[] x, int n, int c, int s)
    {
        var sums = new double[c];
        for (int i = 0; i < n * c * s; i++)
        {
            sums[i / s % c] += x[i];
        }

        return sums;
    }
}
