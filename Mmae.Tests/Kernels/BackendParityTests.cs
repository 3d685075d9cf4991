using Mmae.Kernels;
using Mmae.Kernels.Scalar;
using Xunit;

namespace Mmae.Tests.Kernels;

/// <summary>
/// One test body for every backend: each test runs an <see cref="IBackend"/> method on the
/// backend under test and on <see cref="ScalarBackend"/> with the same fresh random inputs
/// (uploaded to both from the same double arrays) and compares the results element by element
/// within <see cref="Tolerance"/>.
/// </summary>
/// <remarks>
/// <para>
/// Add a backend by subclassing and returning it from <see cref="CreateBackend"/>; override
/// <see cref="Tolerance"/> when it is not a float32 backend. xunit runs every test below once
/// per subclass. The subclasses live at the bottom of this file.
/// </para>
/// <para>
/// Inputs are rounded to float before upload (see <see cref="TestArrays"/>), so a float32
/// backend sees exactly what the oracle sees. Allowances follow the forward error bound
/// explained on <see cref="ParityTolerance"/>; each test states the operation count n and the
/// magnitude scale it passes, and why.
/// </para>
/// <para>
/// The tests are split by kernel family like the backends: memory, elementwise, MSE and Adam
/// here; Gemm and the bias kernels in BackendParityTests.Gemm.cs; batch norm in
/// BackendParityTests.BatchNorm.cs; distances and the matching loss in
/// BackendParityTests.Distance.cs.
/// </para>
/// </remarks>
public abstract partial class BackendParityTests : IDisposable
{
    /// <summary>
    /// Every length 0..260: past four 512-bit float vectors (64 lanes) unrolled four times, so
    /// every remainder of every plausible SIMD loop and its scalar tail is exercised.
    /// </summary>
    private static readonly int[] s_everyLength = Enumerable.Range(0, 261).ToArray();

    private readonly ScalarBackend _oracle = new();
    private IBackend? _backend;

    /// <summary>Creates the backend under test; called once per test.</summary>
    protected abstract IBackend CreateBackend();

    /// <summary>How far the backend under test may stray from the oracle.</summary>
    protected virtual ParityTolerance Tolerance => ParityTolerance.Float32;

    /// <summary>
    /// Whether each test disposes the backend <see cref="CreateBackend"/> gave it. False for a
    /// backend that a class fixture shares between tests and disposes itself.
    /// </summary>
    protected virtual bool OwnsBackend => true;

    /// <summary>
    /// The lengths every elementwise, reduction and memory test runs at: every length 0..260
    /// by default. A backend whose launches are slow (an emulated GPU) may trim the list, keeping
    /// the boundaries its own grid has.
    /// </summary>
    protected virtual IReadOnlyList<int> ElementwiseLengths => s_everyLength;

    private IBackend Backend => _backend ??= CreateBackend();

    /// <summary>Disposes the backend under test when it holds resources (threads, a device) and
    /// this test owns it.</summary>
    public void Dispose()
    {
        if (OwnsBackend)
        {
            (_backend as IDisposable)?.Dispose();
        }

        GC.SuppressFinalize(this);
    }

    [Fact]
    public void Properties_NameAndElementSize_AreSet()
    {
        Assert.False(string.IsNullOrWhiteSpace(Backend.Name));
        Assert.Contains(Backend.ElementSize, new[] { sizeof(float), sizeof(double) });
    }

    [Fact]
    public void Allocate_EveryLength_ZeroFilledAndOwned()
    {
        foreach (int n in ElementwiseLengths)
        {
            DeviceBuffer buffer = Backend.Allocate(n);

            Assert.Equal(n, buffer.Length);
            Assert.Same(Backend, buffer.Backend);
            NumericAssert.Close(new double[n], Backend.ToArray(buffer), 0.0, 0.0, $"length {n}");
        }
    }

    [Fact]
    public void UploadDownload_EveryLength_RoundTrip()
    {
        foreach (int n in ElementwiseLengths)
        {
            var rng = new Random(n);
            double[] exact = TestArrays.Uniform(rng, n, -3.0, 3.0);
            float[] floats = exact.Select(v => (float)v).ToArray();
            double[] inexact = exact.Select(v => v + 1e-12).ToArray();

            // Float-representable values survive both paths unchanged.
            Assert.Equal(exact, Backend.ToArray(Backend.Upload(exact)));
            var back = new float[n];
            Backend.Download(Backend.Upload(floats), back);
            Assert.Equal(floats, back);

            // Other doubles are kept (float64 backend) or rounded to the nearest float.
            double[] stored = Backend.ToArray(Backend.Upload(inexact));
            double[] expected = Backend.ElementSize == sizeof(float)
                ? inexact.Select(v => (double)(float)v).ToArray()
                : inexact;
            Assert.Equal(expected, stored);
        }
    }

    [Fact]
    public void Write_EveryLength_MatchesOracle()
    {
        foreach (int n in ElementwiseLengths)
        {
            var rng = new Random(n);
            Twin dst = Upload(TestArrays.Uniform(rng, n, -1.0, 1.0));
            float[] src = TestArrays.Uniform(rng, n, -3.0, 3.0).Select(v => (float)v).ToArray();

            Run(b => b.Write(src, dst[b]));

            AssertMatches(dst, $"Write, length {n}");
        }
    }

    [Fact]
    public void Fill_EveryLength_MatchesOracle()
    {
        foreach (int n in ElementwiseLengths)
        {
            Twin dst = Upload(TestArrays.Uniform(new Random(n), n, -1.0, 1.0));

            Run(b => b.Fill(dst[b], -0.3f));

            AssertMatches(dst, $"Fill, length {n}");
        }
    }

    [Fact]
    public void Copy_EveryLength_MatchesOracle()
    {
        foreach (int n in ElementwiseLengths)
        {
            var rng = new Random(n);
            Twin src = Upload(TestArrays.Uniform(rng, n, -1.0, 1.0));
            Twin dst = Upload(TestArrays.Uniform(rng, n, -1.0, 1.0));

            Run(b => b.Copy(src[b], dst[b]));

            AssertMatches(dst, $"Copy, length {n}");
        }
    }

    [Fact]
    public void Add_EveryLength_MatchesOracle()
    {
        foreach (int n in ElementwiseLengths)
        {
            var rng = new Random(n);
            Twin a = Upload(TestArrays.Uniform(rng, n, -1.0, 1.0));
            Twin b = Upload(TestArrays.Uniform(rng, n, -1.0, 1.0));
            Twin dst = Upload(TestArrays.Uniform(rng, n, -1.0, 1.0));

            Run(be => be.Add(a[be], b[be], dst[be]));

            // One rounding of exact inputs: Relative covers it.
            AssertMatches(dst, $"Add, length {n}");
        }
    }

    [Fact]
    public void Axpy_EveryLength_MatchesOracle()
    {
        const float alpha = -0.7f;
        foreach (int n in ElementwiseLengths)
        {
            var rng = new Random(n);
            double[] x = TestArrays.Uniform(rng, n, -1.0, 1.0);
            double[] y = TestArrays.Uniform(rng, n, -1.0, 1.0);
            Twin xs = Upload(x);
            Twin ys = Upload(y);

            Run(b => b.Axpy(alpha, xs[b], ys[b]));

            // Multiply and add (or one fused operation) on |y| + |αx|.
            double[] scale = Map(n, i => Math.Abs(y[i]) + Math.Abs(alpha * x[i]));
            AssertMatches(ys, $"Axpy, length {n}", 2, scale);
        }
    }

    [Fact]
    public void AxpyScaled_EveryLength_MatchesOracle()
    {
        const float alpha = 1.3f;
        foreach (int n in ElementwiseLengths)
        {
            var rng = new Random(n);
            double s = TestArrays.Uniform(rng, 1, -2.0, 2.0)[0];
            double[] x = TestArrays.Uniform(rng, n, -1.0, 1.0);
            double[] y = TestArrays.Uniform(rng, n, -1.0, 1.0);
            Twin scaleBuffer = Upload([s]);
            Twin xs = Upload(x);
            Twin ys = Upload(y);

            Run(b => b.AxpyScaled(scaleBuffer[b], alpha, xs[b], ys[b]));

            // Two multiplies and an add on |y| + |s·α·x|.
            double[] scale = Map(n, i => Math.Abs(y[i]) + Math.Abs(s * alpha * x[i]));
            AssertMatches(ys, $"AxpyScaled, length {n}", 3, scale);
        }
    }

    [Fact]
    public void Relu_EveryLength_MatchesOracle()
    {
        foreach (int n in ElementwiseLengths)
        {
            var rng = new Random(n);
            Twin x = Upload(TestArrays.Uniform(rng, n, -1.0, 1.0));
            Twin dst = Upload(TestArrays.Uniform(rng, n, -1.0, 1.0));

            Run(b => b.Relu(x[b], dst[b]));

            AssertMatches(dst, $"Relu, length {n}");
        }
    }

    [Fact]
    public void ReluBackward_EveryLength_MatchesOracle()
    {
        foreach (int n in ElementwiseLengths)
        {
            // y is a genuine ReLU output, so about half of it is exactly 0.
            var rng = new Random(n);
            double[] y = TestArrays.Uniform(rng, n, -1.0, 1.0)
                .Select(v => Math.Max(v, 0.0))
                .ToArray();
            Twin ys = Upload(y);
            Twin dy = Upload(TestArrays.Uniform(rng, n, -1.0, 1.0));
            Twin dx = Upload(TestArrays.Uniform(rng, n, -1.0, 1.0));

            Run(b => b.ReluBackward(ys[b], dy[b], dx[b]));

            AssertMatches(dx, $"ReluBackward, length {n}");
        }
    }

    [Fact]
    public void Tanh_EveryLength_MatchesOracle()
    {
        foreach (int n in ElementwiseLengths)
        {
            // [−5, 5] covers the linear middle, the bend and the saturated ends.
            var rng = new Random(n);
            Twin x = Upload(TestArrays.Uniform(rng, n, -5.0, 5.0));
            Twin dst = Upload(TestArrays.Uniform(rng, n, -1.0, 1.0));

            Run(b => b.Tanh(x[b], dst[b]));

            // A vectorised tanh is often built as (e^{2x} − 1)/(e^{2x} + 1); near x = 0 the
            // subtraction handles magnitude 1, so a few roundings of 1 are allowed on top of
            // the relative error, an absolute 8u that no activation can notice.
            AssertMatches(dst, $"Tanh, length {n}", 4, TestArrays.Constant(n, 1.0));
        }
    }

    [Fact]
    public void TanhBackward_EveryLength_MatchesOracle()
    {
        foreach (int n in ElementwiseLengths)
        {
            var rng = new Random(n);
            double[] y = TestArrays.Uniform(rng, n, -5.0, 5.0)
                .Select(v => (double)(float)Math.Tanh(v))
                .ToArray();
            double[] dy = TestArrays.Uniform(rng, n, -1.0, 1.0);
            Twin ys = Upload(y);
            Twin dys = Upload(dy);
            Twin dx = Upload(TestArrays.Uniform(rng, n, -1.0, 1.0));

            Run(b => b.TanhBackward(ys[b], dys[b], dx[b]));

            // 1 − y² cancels near |y| = 1; its rounding is relative to 1 + y², not to the result.
            double[] scale = Map(n, i => Math.Abs(dy[i]) * (1.0 + y[i] * y[i]));
            AssertMatches(dx, $"TanhBackward, length {n}", 3, scale);
        }
    }

    [Fact]
    public void Mse_EveryLength_MatchesOracle()
    {
        // From length 1: the mean of nothing is 0/0, which the contract leaves open.
        foreach (int n in ElementwiseLengths.Where(n => n > 0))
        {
            var rng = new Random(n);
            double[] a = TestArrays.Uniform(rng, n, -1.0, 1.0);
            double[] b = TestArrays.Uniform(rng, n, -1.0, 1.0);
            Twin aa = Upload(a);
            Twin bb = Upload(b);
            Twin loss = Upload([7.0]);
            Twin dLoss = Upload(TestArrays.Uniform(rng, 1, 0.5, 2.0));
            Twin da = Upload(TestArrays.Uniform(rng, n, -1.0, 1.0));

            Run(be => be.MseForward(aa[be], bb[be], loss[be]));
            Run(be => be.MseBackward(aa[be], bb[be], dLoss[be], da[be]));

            // Forward sums n non-negative terms, so the loss itself bounds their magnitude.
            // Backward is a subtraction and three products per element.
            double[] expectedLoss = Expected(loss);
            AssertMatches(loss, $"MseForward, length {n}", n + 3, expectedLoss);
            AssertMatches(da, $"MseBackward, length {n}", 4, Abs(Expected(da)));
        }
    }

    [Fact]
    public void AdamStep_EveryLength_MatchesOracle()
    {
        // Step t = 3 with PyTorch's default coefficients; bias corrections formed in float.
        const float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
        float c1 = 1.0f - MathF.Pow(beta1, 3);
        float c2 = 1.0f - MathF.Pow(beta2, 3);
        foreach (int n in ElementwiseLengths)
        {
            var rng = new Random(n);
            // Moments and gradients log-uniform over many decades, so sqrt(v̂) runs from far
            // below eps to far above it and where eps is added shows in the result.
            double[] param = TestArrays.Uniform(rng, n, -1.0, 1.0);
            double[] grad = TestArrays.LogUniform(rng, n, 1e-9, 1.0, signed: true);
            double[] m = TestArrays.LogUniform(rng, n, 1e-9, 0.1, signed: true);
            double[] v = TestArrays.LogUniform(rng, n, 1e-18, 1e-2, signed: false);
            Twin ps = Upload(param);
            Twin gs = Upload(grad);
            Twin ms = Upload(m);
            Twin vs = Upload(v);

            Run(b => b.AdamStep(ps[b], gs[b], ms[b], vs[b], lr, beta1, beta2, eps, c1, c2));

            // m and v: two products and an add each. param: the update lr·m̂/(sqrt(v̂) + eps)
            // inherits m's cancellation error, which is relative to β1|m| + (1 − β1)|g|, not
            // to the new m; sqrt, divisions and the final subtraction add a few more roundings.
            double[] mScale = Map(
                n,
                i => beta1 * Math.Abs(m[i]) + (1.0 - beta1) * Math.Abs(grad[i]));
            double[] vScale = Map(n, i => beta2 * v[i] + (1.0 - beta2) * grad[i] * grad[i]);
            double[] newM = Expected(ms);
            double[] newV = Expected(vs);
            double[] paramScale = Map(
                n,
                i =>
                {
                    double denominator = Math.Sqrt(newV[i] / c2) + eps;
                    return Math.Abs(param[i])
                        + lr * (Math.Abs(newM[i]) + mScale[i]) / c1 / denominator;
                });
            AssertMatches(ms, $"AdamStep m, length {n}", 3, mScale);
            AssertMatches(vs, $"AdamStep v, length {n}", 3, vScale);
            AssertMatches(ps, $"AdamStep param, length {n}", 8, paramScale);
            AssertMatches(gs, $"AdamStep grad (read only), length {n}");
        }
    }

    /// <summary>One logical tensor held by both backends, indexed by the backend.</summary>
    private sealed class Twin(DeviceBuffer test, DeviceBuffer oracle)
    {
        public DeviceBuffer Test { get; } = test;

        public DeviceBuffer Oracle { get; } = oracle;

        public DeviceBuffer this[IBackend backend] =>
            ReferenceEquals(backend, Oracle.Backend) ? Oracle : Test;
    }

    /// <summary>The same host values uploaded to the backend under test and to the oracle.
    /// </summary>
    private Twin Upload(double[] data)
    {
        return new Twin(Backend.Upload(data), _oracle.Upload(data));
    }

    /// <summary>Runs one kernel call on the backend under test, then on the oracle.</summary>
    private void Run(Action<IBackend> call)
    {
        call(Backend);
        call(_oracle);
    }

    /// <summary>The oracle's value of a twin.</summary>
    private double[] Expected(Twin twin)
    {
        return _oracle.ToArray(twin.Oracle);
    }

    /// <summary>
    /// Asserts the backend's value of a twin matches the oracle's: element i may differ by
    /// <see cref="ParityTolerance.Allowance"/>(expected_i, operations, scale_i).
    /// </summary>
    private void AssertMatches(
        Twin result,
        string context,
        int operations = 0,
        double[]? scale = null)
    {
        double[] expected = Expected(result);
        double[] actual = Backend.ToArray(result.Test);
        ParityTolerance tolerance = Tolerance;
        NumericAssert.Within(
            expected,
            actual,
            i => tolerance.Allowance(expected[i], operations, scale is null ? 0.0 : scale[i]),
            $"{Backend.Name} against {_oracle.Name}: {context}");
    }

    private static double[] Map(int n, Func<int, double> element)
    {
        var values = new double[n];
        for (int i = 0; i < n; i++)
        {
            values[i] = element(i);
        }

        return values;
    }

    private static double[] Abs(double[] x)
    {
        return x.Select(Math.Abs).ToArray();
    }
}

/// <summary>
/// The oracle against a second instance of itself: trivially exact, and proof that the harness
/// runs every test on a real backend.
/// </summary>
public sealed class ScalarParityTests : BackendParityTests
{
    /// <inheritdoc/>
    protected override IBackend CreateBackend()
    {
        return new ScalarBackend();
    }

    /// <inheritdoc/>
    protected override ParityTolerance Tolerance => ParityTolerance.Exact;
}

/// <summary>The SIMD float32 backend on every core.</summary>
public sealed class CpuParityTests : BackendParityTests
{
    /// <inheritdoc/>
    protected override IBackend CreateBackend() => new Mmae.Kernels.Cpu.CpuBackend();
}

/// <summary>The SIMD float32 backend on one thread, whose work split differs.</summary>
public sealed class CpuSingleThreadParityTests : BackendParityTests
{
    /// <inheritdoc/>
    protected override IBackend CreateBackend() => new Mmae.Kernels.Cpu.CpuBackend(1);
}
