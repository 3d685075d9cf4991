using System.Diagnostics;
using Mmae.Engine;
using Mmae.Kernels;
using Mmae.Kernels.Cpu;

namespace Mmae.Bench;

/// <summary>
/// The figures of docs/benchmarks.md in one quick pass (median wall time of repeated runs after
/// warm-up), the same cases and table layout as tools/bench/torch_reference.py so the two can
/// be put side by side. BenchmarkDotNet suites measure the same kernels more carefully.
/// </summary>
public static class Figures
{
    public static void Run(int threads, bool quick)
    {
        var be = new CpuBackend(threads);
        int reps = quick ? 3 : 7;
        Console.WriteLine($"# Mmae {be.Name}, {be.Threads} threads");
        Console.WriteLine("| case | ms |");
        Console.WriteLine("|---|---|");
        var rng = new Rng(0);

        (int M, int N, int K, bool TA, bool TB, string What)[] gemms =
        [
            (1024, 1024, 1024, false, false, "SGEMM 1024³"),
            (128, 1000, 784, false, true, "SGEMM 128×1000×784 (fwd NT)"),
            (128, 784, 1000, false, false, "SGEMM 128×784×1000 (dx NN)"),
            (1000, 784, 128, true, false, "SGEMM 1000×784×128 (dW TN)"),
        ];
        foreach (var g in gemms)
        {
            DeviceBuffer a = Random(be, rng, g.M * g.K), b = Random(be, rng, g.K * g.N);
            DeviceBuffer c = be.Allocate(g.M * g.N);
            double ms = MedianMs(() => Run(() => be.Gemm(g.TA, g.TB, g.M, g.N, g.K, 1f, a, b, 0f, c)), 20, 5);
            double gflops = 2.0 * g.M * g.N * g.K / ms / 1e6;
            Row(g.What, FormattableString.Invariant($"{ms:F3} ({gflops:F1} GFLOP/s)"));
        }

        int[] sizes = quick ? [128, 1024, 4096] : [128, 1024, 4096, 8192];
        foreach (int p in sizes)
        {
            Row($"L_mm fwd+bwd (Gram form, the default), p = {p}",
                FormattableString.Invariant($"{MatchStep(be, rng, p, false, reps):F2}"));
        }

        Row("L_mm fwd+bwd (Gram form), p = 65536",
            FormattableString.Invariant($"{MatchStep(be, rng, 65536, false, quick ? 2 : 3):F2}"));
        Row("L_mm fwd+bwd plain distances (tiled), p = 4096",
            FormattableString.Invariant($"{MatchStep(be, rng, 4096, true, quick ? 2 : 3):F2}"));

        foreach (int batch in new[] { 128, 256, 1024 })
        {
            double ms = TrainingStep(be, batch, quick ? 10 : 20);
            Row($"training step, batch {batch}",
                FormattableString.Invariant($"{ms:F1} ({batch * 1000 / ms:F0} samples/s)"));
        }
    }

    /// <summary>Runs an action as a function, for <see cref="MedianMs"/>.</summary>
    internal static double Run(Action action)
    {
        action();
        return 0;
    }

    private static void Row(string what, string value) => Console.WriteLine($"| {what} | {value} |");

    /// <summary>n standard normal values on the backend.</summary>
    internal static DeviceBuffer Random(IBackend be, Rng rng, int n)
    {
        var v = new double[n];
        for (int i = 0; i < n; i++)
        {
            v[i] = rng.NextGaussian();
        }

        return be.Upload(v);
    }

    /// <summary>
    /// Median ms of L_mm forward + backward on p random rows (m-D latent, l-D reference);
    /// <paramref name="sync"/> waits for a device backend's queue inside the timed region.
    /// </summary>
    internal static double MatchStep(
        IBackend be,
        Rng rng,
        int p,
        bool plain,
        int reps,
        int m = 256,
        int l = 100,
        Action? sync = null,
        int warmup = 1)
    {
        DeviceBuffer z = Random(be, rng, p * m), e = Random(be, rng, p * l);
        DeviceBuffer loss = be.Allocate(1), dz = be.Allocate(p * m), dLoss = be.Upload(new[] { 1f });
        return MedianMs(() => Run(() =>
        {
            if (plain)
            {
                be.EuclideanMatchLossForward(z, e, p, m, l, loss);
                be.EuclideanMatchLossBackward(z, e, p, m, l, dLoss, dz);
            }
            else
            {
                be.MatchLossForward(z, e, p, m, l, loss);
                be.MatchLossBackward(z, e, p, m, l, dLoss, dz);
            }

            sync?.Invoke();
        }), reps, warmup);
    }

    /// <summary>One DeepAE (784-1000-500-250-256) + L_mm (l = 100) step with Adam, in ms.</summary>
    public static double TrainingStep(IBackend be, int batch, int reps)
    {
        var runner = new TrainingStepRunner(be, batch);
        return MedianMs(runner.Step, reps, 3);
    }

    /// <summary>Median wall time in ms of <paramref name="reps"/> runs after
    /// <paramref name="warmup"/> untimed ones.</summary>
    internal static double MedianMs(Func<double> run, int reps, int warmup)
    {
        for (int i = 0; i < warmup; i++)
        {
            run();
        }

        var times = new double[reps];
        for (int i = 0; i < reps; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            run();
            times[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }

        Array.Sort(times);
        return times[reps / 2];
    }
}
