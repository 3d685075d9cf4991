using Mmae.Kernels;
using Mmae.Kernels.Scalar;
using Xunit;

namespace Mmae.Tests.Kernels;

/// <summary>
/// The scalar oracle's memory, elementwise, Gemm, bias and MSE kernels against values worked
/// out by hand, plus its argument checks.
/// </summary>
public sealed class ScalarBackendTests
{
    /// <summary>
    /// The hand values below are exact binary fractions or a few double roundings away from
    /// them, so anything beyond 1e-12 is a wrong formula, not rounding.
    /// </summary>
    private const double HandTolerance = 1e-12;

    private readonly ScalarBackend _backend = new();

    [Fact]
    public void Properties_DescribeFloat64Oracle()
    {
        Assert.Equal("scalar-f64", _backend.Name);
        Assert.Equal(8, _backend.ElementSize);
    }

    [Fact]
    public void Allocate_Length_ZeroFilledAndOwned()
    {
        DeviceBuffer buffer = _backend.Allocate(5);

        Assert.Equal(5, buffer.Length);
        Assert.Same(_backend, buffer.Backend);
        Assert.Equal(new double[5], _backend.ToArray(buffer));
    }

    [Fact]
    public void Allocate_NegativeLength_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _backend.Allocate(-1));
    }

    [Fact]
    public void UploadDouble_DownloadDouble_RoundTripsExactly()
    {
        double[] data = [0.1, -1.0 / 3.0, 1e-300, 12345.678901234567];

        double[] back = _backend.ToArray(_backend.Upload(data));

        Assert.Equal(data, back);
    }

    [Fact]
    public void UploadFloat_DownloadFloat_RoundTripsExactly()
    {
        float[] data = [0.1f, -1.0f / 3.0f, 1e-30f, 12345.678f];
        var back = new float[data.Length];

        _backend.Download(_backend.Upload(data), back);

        Assert.Equal(data, back);
    }

    [Fact]
    public void DownloadFloat_DoubleValues_RoundToNearestFloat()
    {
        double[] data = [0.1, 1.0 / 3.0, 1.0 + 1e-12];
        var back = new float[data.Length];

        _backend.Download(_backend.Upload(data), back);

        Assert.Equal([0.1f, 1.0f / 3.0f, 1.0f], back);
    }

    [Fact]
    public void Download_LengthDiffers_Throws()
    {
        DeviceBuffer buffer = _backend.Allocate(3);

        Assert.Throws<ArgumentException>(() => _backend.Download(buffer, new double[4]));
    }

    [Fact]
    public void Add_FloatBuffer_Throws()
    {
        var floats = new FloatBuffer(_backend, new float[3]);
        DeviceBuffer doubles = _backend.Allocate(3);

        var error = Assert.Throws<ArgumentException>(() => _backend.Add(floats, doubles, doubles));

        Assert.Equal("a", error.ParamName);
        Assert.Contains("ScalarBackend.Add", error.Message);
    }

    /// <summary>
    /// Every kernel, called with a float32 buffer (sized right, but not this backend's) in its
    /// first buffer argument and valid one-element buffers elsewhere.
    /// </summary>
    private static readonly Dictionary<string, Action<ScalarBackend, DeviceBuffer>> s_kernels =
        new()
        {
            ["Write"] = (b, f) => b.Write(new float[1], f),
            ["Download"] = (b, f) => b.Download(f, new double[1]),
            ["Fill"] = (b, f) => b.Fill(f, 1.0f),
            ["Copy"] = (b, f) => b.Copy(f, b.Allocate(1)),
            ["Add"] = (b, f) => b.Add(f, b.Allocate(1), b.Allocate(1)),
            ["Axpy"] = (b, f) => b.Axpy(1.0f, f, b.Allocate(1)),
            ["AxpyScaled"] = (b, f) => b.AxpyScaled(f, 1.0f, b.Allocate(1), b.Allocate(1)),
            ["Relu"] = (b, f) => b.Relu(f, b.Allocate(1)),
            ["ReluBackward"] = (b, f) => b.ReluBackward(f, b.Allocate(1), b.Allocate(1)),
            ["Tanh"] = (b, f) => b.Tanh(f, b.Allocate(1)),
            ["TanhBackward"] = (b, f) => b.TanhBackward(f, b.Allocate(1), b.Allocate(1)),
            ["Gemm"] = (b, f) => b.Gemm(
                false, false, 1, 1, 1, 1.0f, f, b.Allocate(1), 0.0f, b.Allocate(1)),
            ["AddRowVector"] = (b, f) => b.AddRowVector(f, b.Allocate(1), 1, 1),
            ["ColumnSums"] = (b, f) => b.ColumnSums(f, 1, 1, b.Allocate(1), false),
            ["BatchNormForwardTrain"] = (b, f) => b.BatchNormForwardTrain(
                f, 2, 1, b.Allocate(1), b.Allocate(1), b.Allocate(1), b.Allocate(1), 0.1f,
                1e-5f, b.Allocate(2), b.Allocate(1), b.Allocate(1)),
            ["BatchNormForwardEval"] = (b, f) => b.BatchNormForwardEval(
                f, 1, 1, b.Allocate(1), b.Allocate(1), b.Allocate(1), b.Allocate(1), 1e-5f,
                b.Allocate(1)),
            ["BatchNormBackward"] = (b, f) => b.BatchNormBackward(
                f, b.Allocate(1), 1, 1, b.Allocate(1), b.Allocate(1), b.Allocate(1),
                b.Allocate(1), b.Allocate(1), b.Allocate(1)),
            ["MseForward"] = (b, f) => b.MseForward(f, b.Allocate(1), b.Allocate(1)),
            ["MseBackward"] = (b, f) => b.MseBackward(
                f, b.Allocate(1), b.Allocate(1), b.Allocate(1)),
            ["PairwiseSquaredDistances"] = (b, f) => b.PairwiseSquaredDistances(
                f, 1, 1, b.Allocate(1)),
            ["PairwiseSquaredDistancesBackward"] = (b, f) => b.PairwiseSquaredDistancesBackward(
                f, b.Allocate(1), 1, 1, b.Allocate(1)),
            ["FrobeniusNormalize"] = (b, f) => b.FrobeniusNormalize(
                f, b.Allocate(1), b.Allocate(1)),
            ["FrobeniusNormalizeBackward"] = (b, f) => b.FrobeniusNormalizeBackward(
                f, b.Allocate(1), b.Allocate(1), b.Allocate(1)),
            ["MatchLossForward"] = (b, f) => b.MatchLossForward(
                f, b.Allocate(1), 1, 1, 1, b.Allocate(1)),
            ["MatchLossBackward"] = (b, f) => b.MatchLossBackward(
                f, b.Allocate(1), 1, 1, 1, b.Allocate(1), b.Allocate(1)),
            ["EuclideanMatchLossForward"] = (b, f) => b.EuclideanMatchLossForward(
                f, b.Allocate(1), 1, 1, 1, b.Allocate(1)),
            ["EuclideanMatchLossBackward"] = (b, f) => b.EuclideanMatchLossBackward(
                f, b.Allocate(1), 1, 1, 1, b.Allocate(1), b.Allocate(1)),
            ["AdamStep"] = (b, f) => b.AdamStep(
                f, b.Allocate(1), b.Allocate(1), b.Allocate(1), 1e-3f, 0.9f, 0.999f, 1e-8f,
                0.1f, 0.001f),

            // VAE
            ["Reparameterize"] = (b, f) => b.Reparameterize(
                f, b.Allocate(1), b.Allocate(1), b.Allocate(1)),
            ["ReparameterizeBackward"] = (b, f) => b.ReparameterizeBackward(
                f, b.Allocate(1), b.Allocate(1), b.Allocate(1)),
            ["KlDivergenceForward"] = (b, f) => b.KlDivergenceForward(
                f, b.Allocate(1), 1, b.Allocate(1)),
            ["KlDivergenceBackward"] = (b, f) => b.KlDivergenceBackward(
                f, b.Allocate(1), 1, b.Allocate(1), b.Allocate(1), b.Allocate(1)),
            ["BinaryCrossEntropyTanhForward"] = (b, f) => b.BinaryCrossEntropyTanhForward(
                f, b.Allocate(1), 1, b.Allocate(1)),
            ["BinaryCrossEntropyTanhBackward"] = (b, f) => b.BinaryCrossEntropyTanhBackward(
                f, b.Allocate(1), 1, b.Allocate(1), b.Allocate(1)),
            ["Im2Col"] = (b, f) => b.Im2Col(f, new ConvGeometry(1, 1, 1, 1, 1, 1, 0, 1, 1), b.Allocate(1)),
            ["Col2Im"] = (b, f) => b.Col2Im(f, new ConvGeometry(1, 1, 1, 1, 1, 1, 0, 1, 1), b.Allocate(1)),
            ["SwapLeadingAxes"] = (b, f) => b.SwapLeadingAxes(f, 1, 1, 1, b.Allocate(1)),
            ["AddChannelBias"] = (b, f) => b.AddChannelBias(f, b.Allocate(1), 1, 1, 1),
            ["ChannelSums"] = (b, f) => b.ChannelSums(f, 1, 1, 1, b.Allocate(1), false),
            ["BatchNorm2dForwardTrain"] = (b, f) => b.BatchNorm2dForwardTrain(
                f, 2, 1, 1, b.Allocate(1), b.Allocate(1), b.Allocate(1), b.Allocate(1), 0.1f,
                1e-5f, b.Allocate(2), b.Allocate(1), b.Allocate(1)),
            ["BatchNorm2dForwardEval"] = (b, f) => b.BatchNorm2dForwardEval(
                f, 1, 1, 1, b.Allocate(1), b.Allocate(1), b.Allocate(1), b.Allocate(1), 1e-5f,
                b.Allocate(1)),
            ["BatchNorm2dBackward"] = (b, f) => b.BatchNorm2dBackward(
                f, b.Allocate(1), 1, 1, 1, b.Allocate(1), b.Allocate(1), b.Allocate(1),
                b.Allocate(1), b.Allocate(1), b.Allocate(1)),
            ["LeakyRelu"] = (b, f) => b.LeakyRelu(f, 0.2f, b.Allocate(1)),
            ["LeakyReluBackward"] = (b, f) => b.LeakyReluBackward(f, b.Allocate(1), 0.2f, b.Allocate(1)),
            ["Multiply"] = (b, f) => b.Multiply(f, b.Allocate(1), b.Allocate(1)),
        };

    public static TheoryData<string> KernelNames()
    {
        var names = new TheoryData<string>();
        foreach (string name in s_kernels.Keys)
        {
            names.Add(name);
        }

        return names;
    }

    [Theory]
    [MemberData(nameof(KernelNames))]
    public void Kernel_FloatBufferArgument_ThrowsNamingTheKernel(string kernel)
    {
        var foreign = new FloatBuffer(_backend, new float[1]);

        var error = Assert.Throws<ArgumentException>(() => s_kernels[kernel](_backend, foreign));

        Assert.Contains($"ScalarBackend.{kernel}:", error.Message);
    }

    [Fact]
    public void Kernels_Table_CoversEveryBufferMethodOfIBackend()
    {
        // Everything on IBackend that takes a DeviceBuffer must appear in the table above.
        IEnumerable<string> bufferMethods = typeof(IBackend).GetMethods()
            .Where(method => method.GetParameters()
                .Any(parameter => parameter.ParameterType == typeof(DeviceBuffer)))
            .Select(method => method.Name)
            .Distinct();

        Assert.Equal(bufferMethods.Order(), s_kernels.Keys.Order());
    }

    [Fact]
    public void Add_BufferOfAnotherScalarBackend_Throws()
    {
        var other = new ScalarBackend();
        DeviceBuffer foreign = other.Allocate(3);
        DeviceBuffer own = _backend.Allocate(3);

        var error = Assert.Throws<ArgumentException>(() => _backend.Add(own, own, foreign));

        Assert.Equal("dst", error.ParamName);
    }

    [Fact]
    public void Add_LengthsDiffer_Throws()
    {
        DeviceBuffer three = _backend.Allocate(3);
        DeviceBuffer four = _backend.Allocate(4);

        var error = Assert.Throws<ArgumentException>(() => _backend.Add(three, four, three));

        Assert.Equal("b", error.ParamName);
    }

    [Fact]
    public void AxpyScaled_ScaleNotOneElement_Throws()
    {
        DeviceBuffer scale = _backend.Allocate(2);
        DeviceBuffer x = _backend.Allocate(3);

        Assert.Throws<ArgumentException>(() => _backend.AxpyScaled(scale, 1.0f, x, x));
    }

    [Fact]
    public void Gemm_NegativeSize_Throws()
    {
        DeviceBuffer empty = _backend.Allocate(0);

        var error = Assert.Throws<ArgumentOutOfRangeException>(
            () => _backend.Gemm(false, false, 0, -1, 0, 1.0f, empty, empty, 0.0f, empty));

        Assert.Equal("n", error.ParamName);
    }

    [Fact]
    public void Gemm_BufferLengthDisagreesWithShape_Throws()
    {
        DeviceBuffer a = _backend.Allocate(2 * 3);
        DeviceBuffer b = _backend.Allocate(3 * 4);
        DeviceBuffer c = _backend.Allocate(2 * 5);

        var error = Assert.Throws<ArgumentException>(
            () => _backend.Gemm(false, false, 2, 4, 3, 1.0f, a, b, 0.0f, c));

        Assert.Equal("c", error.ParamName);
    }

    [Fact]
    public void ElementwiseKernels_HandValues_MatchFormulas()
    {
        DeviceBuffer x = _backend.Upload([-2.0, 0.0, 0.5, 3.0]);
        DeviceBuffer y = _backend.Upload([1.0, 1.0, -1.0, 0.25]);
        DeviceBuffer scale = _backend.Upload([4.0]);
        DeviceBuffer dst = _backend.Allocate(4);

        _backend.Fill(dst, 2.5f);
        AssertHand([2.5, 2.5, 2.5, 2.5], dst, "Fill");

        _backend.Copy(x, dst);
        AssertHand([-2.0, 0.0, 0.5, 3.0], dst, "Copy");

        // dst = x + y
        _backend.Add(x, y, dst);
        AssertHand([-1.0, 1.0, -0.5, 3.25], dst, "Add");

        // y += 0.5·x = (1 − 1, 1 + 0, −1 + 0.25, 0.25 + 1.5)
        _backend.Axpy(0.5f, x, y);
        AssertHand([0.0, 1.0, -0.75, 1.75], y, "Axpy");

        // y += 4·0.5·x = (0 − 4, 1 + 0, −0.75 + 1, 1.75 + 6)
        _backend.AxpyScaled(scale, 0.5f, x, y);
        AssertHand([-4.0, 1.0, 0.25, 7.75], y, "AxpyScaled");

        _backend.Relu(x, dst);
        AssertHand([0.0, 0.0, 0.5, 3.0], dst, "Relu");

        // Gradient passes only where the ReLU output is positive; 0 counts as not positive.
        DeviceBuffer dy = _backend.Upload([10.0, 20.0, 30.0, 40.0]);
        _backend.ReluBackward(dst, dy, dst);
        AssertHand([0.0, 0.0, 30.0, 40.0], dst, "ReluBackward");
    }

    [Fact]
    public void Tanh_LogTwo_IsThreeFifths()
    {
        // tanh(ln 2) = (2 − 1/2)/(2 + 1/2) = 3/5, and tanh is odd.
        DeviceBuffer x = _backend.Upload([Math.Log(2.0), -Math.Log(2.0), 0.0]);
        DeviceBuffer y = _backend.Allocate(3);
        DeviceBuffer dy = _backend.Upload([1.0, 2.0, 3.0]);
        DeviceBuffer dx = _backend.Allocate(3);

        _backend.Tanh(x, y);
        _backend.TanhBackward(y, dy, dx);

        AssertHand([0.6, -0.6, 0.0], y, "Tanh");

        // dx = dy·(1 − 0.36) = 0.64·dy, and dy·1 at x = 0.
        AssertHand([0.64, 1.28, 3.0], dx, "TanhBackward");
    }

    [Fact]
    public void Gemm_HandExample_AllTransposes()
    {
        // A = [1 2 3; 4 5 6], B = [7 8; 9 10; 11 12], A·B = [58 64; 139 154].
        // C = 2·A·B − 1·[1 1; 1 1] = [115 127; 277 307].
        double[] a = [1, 2, 3, 4, 5, 6];
        double[] b = [7, 8, 9, 10, 11, 12];
        double[] expected = [115, 127, 277, 307];

        foreach (bool transA in new[] { false, true })
        {
            foreach (bool transB in new[] { false, true })
            {
                DeviceBuffer aBuf = _backend.Upload(transA ? TestArrays.Transpose(a, 2, 3) : a);
                DeviceBuffer bBuf = _backend.Upload(transB ? TestArrays.Transpose(b, 3, 2) : b);
                DeviceBuffer c = _backend.Upload([1.0, 1.0, 1.0, 1.0]);

                _backend.Gemm(transA, transB, 2, 2, 3, 2.0f, aBuf, bBuf, -1.0f, c);

                AssertHand(expected, c, $"Gemm(transA: {transA}, transB: {transB})");
            }
        }
    }

    [Fact]
    public void Gemm_BetaZero_IgnoresNaNInC()
    {
        DeviceBuffer a = _backend.Upload([1.0, 2.0]);
        DeviceBuffer b = _backend.Upload([3.0, 4.0]);
        DeviceBuffer c = _backend.Upload([double.NaN]);

        // 1×2 · 2×1: 1·3 + 2·4 = 11
        _backend.Gemm(false, false, 1, 1, 2, 1.0f, a, b, 0.0f, c);

        AssertHand([11.0], c, "Gemm with beta = 0");
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Gemm_TransposeFlag_EqualsExplicitTranspose(bool transA, bool transB)
    {
        const int m = 5, n = 4, k = 3;
        var rng = new Random(11);
        double[] a = TestArrays.Uniform(rng, m * k, -1.0, 1.0);
        double[] b = TestArrays.Uniform(rng, k * n, -1.0, 1.0);
        double[] c = TestArrays.Uniform(rng, m * n, -1.0, 1.0);
        DeviceBuffer plain = _backend.Upload(c);
        DeviceBuffer flagged = _backend.Upload(c);

        // op(X) = X stored as is, against op(X) = X stored transposed by this test.
        DeviceBuffer aPlain = _backend.Upload(a);
        DeviceBuffer bPlain = _backend.Upload(b);
        _backend.Gemm(false, false, m, n, k, 0.75f, aPlain, bPlain, 0.5f, plain);

        DeviceBuffer aStored = _backend.Upload(transA ? TestArrays.Transpose(a, m, k) : a);
        DeviceBuffer bStored = _backend.Upload(transB ? TestArrays.Transpose(b, k, n) : b);
        _backend.Gemm(transA, transB, m, n, k, 0.75f, aStored, bStored, 0.5f, flagged);

        AssertHand(_backend.ToArray(plain), flagged, "Gemm with explicit transposes");
    }

    [Fact]
    public void BiasKernels_HandValues_MatchFormulas()
    {
        // x = [1 2 3; 4 5 6], bias = [10 20 30]
        DeviceBuffer x = _backend.Upload([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        DeviceBuffer bias = _backend.Upload([10.0, 20.0, 30.0]);
        DeviceBuffer sums = _backend.Upload([100.0, 200.0, 300.0]);

        _backend.ColumnSums(x, 2, 3, sums, accumulate: false);
        AssertHand([5.0, 7.0, 9.0], sums, "ColumnSums (overwrite)");

        _backend.ColumnSums(x, 2, 3, sums, accumulate: true);
        AssertHand([10.0, 14.0, 18.0], sums, "ColumnSums (accumulate)");

        _backend.AddRowVector(x, bias, 2, 3);
        AssertHand([11.0, 22.0, 33.0, 14.0, 25.0, 36.0], x, "AddRowVector");
    }

    [Fact]
    public void Mse_HandValues_MatchFormulas()
    {
        // a − b = (1, −2, 0): loss = (1 + 4 + 0)/3; da = dLoss·2·(a − b)/3 with dLoss = 3.
        DeviceBuffer a = _backend.Upload([1.0, 2.0, 3.0]);
        DeviceBuffer b = _backend.Upload([0.0, 4.0, 3.0]);
        DeviceBuffer loss = _backend.Allocate(1);
        DeviceBuffer dLoss = _backend.Upload([3.0]);
        DeviceBuffer da = _backend.Allocate(3);

        _backend.MseForward(a, b, loss);
        _backend.MseBackward(a, b, dLoss, da);

        AssertHand([5.0 / 3.0], loss, "MseForward");
        AssertHand([2.0, -4.0, 0.0], da, "MseBackward");
    }

    [Fact]
    public void MseForward_Empty_IsNaN()
    {
        DeviceBuffer empty = _backend.Allocate(0);
        DeviceBuffer loss = _backend.Allocate(1);

        _backend.MseForward(empty, empty, loss);

        Assert.True(double.IsNaN(_backend.Scalar(loss)));
    }

    [Fact]
    public void PairwiseSquaredDistances_ThreePoints_HandValues()
    {
        // Points (0, 0), (3, 4), (1, 1): |p0 p1|² = 25, |p0 p2|² = 2, |p1 p2|² = 4 + 9 = 13.
        DeviceBuffer x = _backend.Upload([0.0, 0.0, 3.0, 4.0, 1.0, 1.0]);
        DeviceBuffer d = _backend.Allocate(9);

        _backend.PairwiseSquaredDistances(x, 3, 2, d);

        AssertHand([0, 25, 2, 25, 0, 13, 2, 13, 0], d, "PairwiseSquaredDistances");
    }

    [Fact]
    public void FrobeniusNormalize_ThreeFour_HandValues()
    {
        // ||(3, 4)|| = 5. Backward with dy = (1, 0): ⟨dy, y⟩ = 0.6,
        // dx = ((1, 0) − 0.6·(0.6, 0.8))/5 = (0.64, −0.48)/5.
        DeviceBuffer x = _backend.Upload([3.0, 4.0]);
        DeviceBuffer y = _backend.Allocate(2);
        DeviceBuffer norm = _backend.Allocate(1);
        DeviceBuffer dy = _backend.Upload([1.0, 0.0]);
        DeviceBuffer dx = _backend.Allocate(2);

        _backend.FrobeniusNormalize(x, y, norm);
        _backend.FrobeniusNormalizeBackward(y, dy, norm, dx);

        AssertHand([0.6, 0.8], y, "FrobeniusNormalize");
        AssertHand([5.0], norm, "FrobeniusNormalize norm");
        AssertHand([0.128, -0.096], dx, "FrobeniusNormalizeBackward");
    }

    [Fact]
    public void FrobeniusNormalize_ZeroInput_GivesZeroAndZeroGradient()
    {
        DeviceBuffer x = _backend.Allocate(4);
        DeviceBuffer y = _backend.Upload([9.0, 9.0, 9.0, 9.0]);
        DeviceBuffer norm = _backend.Upload([9.0]);
        DeviceBuffer dy = _backend.Upload([1.0, -2.0, 3.0, -4.0]);
        DeviceBuffer dx = _backend.Upload([9.0, 9.0, 9.0, 9.0]);

        _backend.FrobeniusNormalize(x, y, norm);
        _backend.FrobeniusNormalizeBackward(y, dy, norm, dx);

        AssertHand([0.0, 0.0, 0.0, 0.0], y, "FrobeniusNormalize of zeros");
        AssertHand([0.0], norm, "norm of zeros");
        AssertHand([0.0, 0.0, 0.0, 0.0], dx, "FrobeniusNormalizeBackward at norm 0");
    }

    private void AssertHand(double[] expected, DeviceBuffer actual, string context)
    {
        double[] values = _backend.ToArray(actual);
        NumericAssert.Close(expected, values, HandTolerance, HandTolerance, context);
    }
}
