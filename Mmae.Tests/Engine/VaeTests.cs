using Mmae.Engine;
using Mmae.Engine.Modules;
using Mmae.Engine.Optim;
using Mmae.Kernels;
using Mmae.Kernels.Cpu;
using Xunit;
using Xunit.Abstractions;

namespace Mmae.Tests.Engine;

/// <summary>
/// The VAE ops against finite differences and closed forms (float64, scalar backend), and the
/// VAE module end to end: its gradients, and a short training run.
/// </summary>
public class VaeTests(ITestOutputHelper output)
{
    private static readonly IBackend s_oracle = GradientCheck.Backend;

    [Fact]
    public void Reparameterize_Gradients_MatchFiniteDifferences()
    {
        var rng = new Rng(21);
        GradientCheck.Check(
            t => OpGradientTests.Head(Ops.Reparameterize(t[0], t[1], t[2]), 31),
            [Random(rng, 12), Random(rng, 12), Random(rng, 12)],
            [[4, 3], [4, 3], [4, 3]],
            differentiate: [true, true, false]);
    }

    [Fact]
    public void Reparameterize_Value_IsMeanPlusSigmaTimesNoise()
    {
        var rng = new Rng(22);
        double[] mu = GradientCheck.Random(rng, 10);
        double[] lv = GradientCheck.Random(rng, 10);
        double[] eps = GradientCheck.Random(rng, 10);

        double[] z = Ops.Reparameterize(T(mu, 5, 2), T(lv, 5, 2), T(eps, 5, 2)).ToDoubleArray();

        for (int i = 0; i < z.Length; i++)
        {
            Assert.Equal(mu[i] + Math.Sqrt(Math.Exp(lv[i])) * eps[i], z[i], 12);
        }
    }

    [Fact]
    public void KlDivergence_Gradients_MatchFiniteDifferences()
    {
        var rng = new Rng(23);
        GradientCheck.Check(
            t => Losses.KlDivergence(t[0], t[1]),
            [GradientCheck.Random(rng, 15), GradientCheck.Random(rng, 15)],
            [[5, 3], [5, 3]]);
    }

    [Fact]
    public void KlDivergence_RandomGaussians_MatchesClosedForm()
    {
        // KL(N(μ, σ²) ‖ N(0, 1)) = ln(1/σ) + (σ² + μ²)/2 − 1/2 per dimension, written from σ
        // (not log σ²) so it shares no expression with the kernel.
        var rng = new Rng(24);
        int p = 7, m = 4;
        double[] mu = GradientCheck.Random(rng, p * m, 1.5);
        double[] sigma = Enumerable.Range(0, p * m).Select(_ => rng.Uniform(0.05, 3.0)).ToArray();
        double[] lv = sigma.Select(s => Math.Log(s * s)).ToArray();
        double expected = 0;
        for (int i = 0; i < p * m; i++)
        {
            expected += Math.Log(1 / sigma[i]) + (sigma[i] * sigma[i] + mu[i] * mu[i]) / 2 - 0.5;
        }

        expected /= p;

        foreach (IBackend be in new[] { s_oracle, new CpuBackend(2) })
        {
            double kl = Losses.KlDivergence(T(be, mu, p, m), T(be, lv, p, m)).Item();
            // Float backends: the inputs themselves are rounded to float (relative 6e-8).
            double tolerance = be.ElementSize == sizeof(double) ? 1e-12 : 1e-6;
            Assert.True(Math.Abs(kl - expected) <= tolerance * Math.Abs(expected),
                $"{be.Name}: KL {kl:R}, closed form {expected:R}");
        }
    }

    [Fact]
    public void KlDivergence_StandardNormal_IsZero()
    {
        double kl = Losses.KlDivergence(T(new double[6], 2, 3), T(new double[6], 2, 3)).Item();

        Assert.Equal(0.0, kl);
    }

    [Fact]
    public void SumSquaredError_Gradients_MatchFiniteDifferencesForBothArguments()
    {
        var rng = new Rng(25);
        GradientCheck.Check(
            t => Losses.SumSquaredError(t[0], t[1]),
            [GradientCheck.Random(rng, 24), GradientCheck.Random(rng, 24)],
            [[3, 2, 4], [3, 2, 4]]);
    }

    [Fact]
    public void SumSquaredError_Images_IsPerImageSumAveragedOverBatch()
    {
        var rng = new Rng(26);
        double[] a = GradientCheck.Random(rng, 24);
        double[] b = GradientCheck.Random(rng, 24);
        double expected = a.Zip(b, (u, v) => (u - v) * (u - v)).Sum() / 3;

        double sse = Losses.SumSquaredError(T(a, 3, 2, 4), T(b, 3, 2, 4)).Item();

        Assert.Equal(expected, sse, 12);
    }

    [Fact]
    public void BinaryCrossEntropyTanh_Gradient_MatchesFiniteDifferences()
    {
        var rng = new Rng(27);
        double[] x = BinaryishTargets(rng, 20);
        GradientCheck.Check(
            t => Losses.BinaryCrossEntropyTanh(t[0], t[1]),
            [GradientCheck.Random(rng, 20, 2.0), x],
            [[4, 5], [4, 5]],
            differentiate: [true, false]);
    }

    [Fact]
    public void BinaryCrossEntropyTanh_ModerateInputs_EqualsDefinition()
    {
        // −1/p Σ [t·ln q + (1 − t)·ln(1 − q)] with q = (1 + tanh a)/2, t = (1 + x)/2, taken
        // literally; fine in double while |a| stays moderate.
        var rng = new Rng(28);
        int p = 4, d = 6;
        double[] a = GradientCheck.Random(rng, p * d, 2.0);
        double[] x = BinaryishTargets(rng, p * d);
        double expected = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double q = (1 + Math.Tanh(a[i])) / 2, t = (1 + x[i]) / 2;
            expected -= t * Math.Log(q) + (1 - t) * Math.Log(1 - q);
        }

        expected /= p;

        double bce = Losses.BinaryCrossEntropyTanh(T(a, p, d), T(x, p, d)).Item();

        Assert.Equal(expected, bce, 10);
    }

    [Fact]
    public void BinaryCrossEntropyTanh_SaturatedWrongOutputs_FiniteWithFullGradient()
    {
        // tanh(±40) is ±1 even in double, so q is exactly 0 or 1: the literal formula gives
        // infinity, while the logit form gives 2·|a| per wrong pixel and the gradient (±1 − x)/p.
        double[] a = [40, -40, 40, -40];
        double[] x = [-1, 1, 1, -1];
        var pre = T(a, 2, 2);
        pre.RequiresGrad = true;

        Tensor loss = Losses.BinaryCrossEntropyTanh(pre, T(x, 2, 2));
        loss.Backward();

        Assert.Equal(2 * 80.0 / 2, loss.Item(), 9);
        double[] rounded = pre.GradToDoubleArray()!.Select(g => Math.Round(g, 12)).ToArray();
        Assert.Equal([1.0, -1.0, 0.0, 0.0], rounded);
    }

    [Fact]
    public void Losses_MismatchedOrUnbatchedShapes_Throw()
    {
        var ex = Assert.Throws<ArgumentException>(
            () => Losses.KlDivergence(T(new double[6], 2, 3), T(new double[6], 3, 2)));
        Assert.Contains("KlDivergence: shapes differ, (2, 3) and (3, 2)", ex.Message);

        ex = Assert.Throws<ArgumentException>(
            () => Losses.BinaryCrossEntropyTanh(T(new double[4], 4), T(new double[4], 4)));
        Assert.Contains(
            "BinaryCrossEntropyTanh: expected a batch (samples, ...), got shape (4)", ex.Message);

        ex = Assert.Throws<ArgumentException>(
            () => Losses.SumSquaredError(T(new double[0], 0, 3), T(new double[0], 0, 3)));
        Assert.Contains("SumSquaredError: expected at least one sample", ex.Message);

        ex = Assert.Throws<ArgumentException>(
            () => Ops.Reparameterize(
                T(new double[6], 2, 3), T(new double[6], 2, 3), T(new double[4], 2, 2)));
        Assert.Contains("Reparameterize: shapes differ", ex.Message);
    }

    [Fact]
    public void ScalarLossKernels_RowsBelowOne_ThrowNamingKernel()
    {
        var be = new Mmae.Kernels.Scalar.ScalarBackend();
        DeviceBuffer one = be.Allocate(1);

        var ex = Assert.Throws<ArgumentOutOfRangeException>(
            () => be.KlDivergenceForward(one, one, 0, be.Allocate(1)));
        Assert.Contains("ScalarBackend.KlDivergenceForward: expected rows >= 1", ex.Message);

        ex = Assert.Throws<ArgumentOutOfRangeException>(
            () => be.BinaryCrossEntropyTanhBackward(one, one, -1, one, be.Allocate(1)));
        Assert.Contains("ScalarBackend.BinaryCrossEntropyTanhBackward: expected rows >= 1", ex.Message);
    }

    [Fact]
    public void GaussianNoise_SameSeed_SameDraws()
    {
        float[] first = Ops.GaussianNoise(s_oracle, new Rng(9), 3, 4).ToArray();
        float[] again = Ops.GaussianNoise(s_oracle, new Rng(9), 3, 4).ToArray();
        float[] other = Ops.GaussianNoise(s_oracle, new Rng(10), 3, 4).ToArray();

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    [Theory]
    [InlineData(ReconstructionLoss.SquaredError)]
    [InlineData(ReconstructionLoss.BinaryCrossEntropy)]
    public void Vae_ParameterGradients_MatchFiniteDifferences(ReconstructionLoss kind)
    {
        // A smooth MLP VAE (Tanh everywhere, so no kink lies near a probe): trunk 5→4,
        // heads 4→2, decoder 2→3→5 ending in Tanh. Loss = rec + KL with fixed noise.
        var rng = new Rng(29);
        int p = 3, d = 5, m = 2;
        var trunk = new Sequential([new Linear(s_oracle, d, 4, rng), new Tanh()]);
        var decoder = new Sequential(
            [new Linear(s_oracle, m, 3, rng), new Tanh(), new Linear(s_oracle, 3, d, rng), new Tanh()]);
        var vae = new Vae(s_oracle, trunk, 4, m, decoder, rng);
        Tensor x = T(BinaryishTargets(rng, p * d), p, d);
        Tensor eps = T(GradientCheck.Random(rng, p * m), p, m);
        double Loss() => vae.Loss(x, eps, kind).Total().Item();

        vae.Loss(x, eps, kind).Total().Backward();

        const double step = 1e-5;
        foreach ((string name, Tensor param) in vae.NamedParameters())
        {
            double[] values = ((DoubleBuffer)param.Data).Data;
            double[] analytic = param.GradToDoubleArray()!;
            for (int i = 0; i < values.Length; i++)
            {
                double keep = values[i];
                values[i] = keep + step;
                double up = Loss();
                values[i] = keep - step;
                double down = Loss();
                values[i] = keep;
                double numeric = (up - down) / (2 * step);
                double allowed = 1e-8 + 1e-6 * Math.Max(Math.Abs(numeric), Math.Abs(analytic[i]));
                Assert.True(Math.Abs(numeric - analytic[i]) <= allowed,
                    $"{kind} {name}[{i}]: finite difference {numeric:R}, autograd {analytic[i]:R}");
            }
        }
    }

    [Fact]
    public void Vae_Children_NamedLikePyTorch()
    {
        var vae = new DeepVae(s_oracle, 6, 2, new Rng(1), [5, 4]);

        string[] names = vae.NamedParameters().Select(n => n.Name).ToArray();

        Assert.Contains("fc_mu.weight", names);
        Assert.Contains("fc_logvar.bias", names);
        Assert.Contains("trunk.0.weight", names);
        Assert.Contains("decoder.6.weight", names);
        Assert.Equal(4, vae.FeatureWidth);
        Assert.Equal((2, 2), (vae.Encode(T(new double[18], 3, 6)).Mean.Cols, vae.LatentDim));
    }

    [Fact]
    public void Vae_BceWithDecoderNotEndingInTanh_ThrowsNotSupported()
    {
        var rng = new Rng(2);
        var vae = new Vae(
            s_oracle, new Linear(s_oracle, 3, 2, rng), 2, 1, new Linear(s_oracle, 1, 3, rng), rng);

        var ex = Assert.Throws<NotSupportedException>(
            () => vae.Loss(T(new double[6], 2, 3), new Rng(3), ReconstructionLoss.BinaryCrossEntropy));

        Assert.Contains("needs a Sequential decoder ending in Tanh; got Linear", ex.Message);
    }

    [Fact]
    public void Vae_TrunkWidthWrong_ThrowsNamingWidths()
    {
        var rng = new Rng(4);
        var vae = new Vae(
            s_oracle, new Linear(s_oracle, 3, 5, rng), 4, 1, new Linear(s_oracle, 1, 3, rng), rng);

        var ex = Assert.Throws<ArgumentException>(() => vae.Encode(T(new double[6], 2, 3)));

        Assert.Contains("the trunk gave (2, 5)", ex.Message);
        Assert.Contains("expected (batch, 4)", ex.Message);
    }

    [Theory]
    [InlineData(ReconstructionLoss.SquaredError)]
    [InlineData(ReconstructionLoss.BinaryCrossEntropy)]
    public void DeepVae_TrainedOnSyntheticData_LowersItsLoss(ReconstructionLoss kind)
    {
        // 256 points on a 2-D manifold in 16-D, squashed to [−1, 1] (binarised for BCE);
        // 300 Adam steps on batches of 32. The mean loss of the last 20 steps must fall
        // below 80% of the first 20's: training that does nothing (or diverges) stays above.
        var be = new CpuBackend(1);
        var rng = new Rng(30);
        int n = 256, d = 16, batch = 32;
        double[] mixing = GradientCheck.Random(rng, 2 * d);
        var data = new float[n * d];
        for (int i = 0; i < n; i++)
        {
            double u = rng.Uniform(-1, 1), v = rng.Uniform(-1, 1);
            for (int j = 0; j < d; j++)
            {
                double value = Math.Tanh(1.5 * (u * mixing[j] + v * mixing[d + j]));
                bool binary = kind == ReconstructionLoss.BinaryCrossEntropy;
                data[i * d + j] = binary ? (value > 0 ? 1f : -1f) : (float)value;
            }
        }

        var vae = new DeepVae(be, d, 2, new Rng(31), [32, 16]);
        var adam = new Adam(vae.Parameters(), new AdamOptions { LearningRate = 3e-3f });
        var noise = new Rng(32);
        var losses = new List<double>();
        for (int step = 0; step < 300; step++)
        {
            int start = step * batch % n;
            Tensor x = Tensor.FromArray(be, data.AsSpan(start * d, batch * d), batch, d);
            adam.ZeroGrad();
            Tensor loss = vae.Loss(x, noise, kind).Total();
            losses.Add(loss.Item());
            loss.Backward();
            adam.Step();
        }

        double first = losses.Take(20).Average(), last = losses.TakeLast(20).Average();
        output.WriteLine($"{kind}: mean loss of the first 20 steps {first:F4}, last 20 {last:F4}");
        Assert.True(
            double.IsFinite(last) && last < 0.8 * first,
            $"{kind}: first 20 steps {first:F3}, last 20 {last:F3}");
    }

    // Targets in [−1, 1]: ±1 for even indices, anywhere between for odd ones.
    private static double[] BinaryishTargets(Rng rng, int n) =>
        Enumerable.Range(0, n)
            .Select(i => i % 2 == 1 ? rng.Uniform(-1, 1) : rng.NextDouble() < 0.5 ? -1.0 : 1.0)
            .ToArray();

    private static Tensor T(double[] values, params int[] shape) => T(s_oracle, values, shape);

    private static Tensor T(IBackend be, double[] values, params int[] shape) =>
        Tensor.FromArray(be, values, shape);

    private static double[] Random(Rng rng, int n) => GradientCheck.Random(rng, n);
}
