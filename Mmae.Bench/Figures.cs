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

    private static double Run(Action action)
    {
        action();
        return 0;
    }

    private static void Row(string what, string value) => Console.WriteLine($"| {what} | {value} |");

    private static DeviceBuffer Random(IBackend be, Rng rng, int n)
    {
        var v = new double[n];
        for (int i = 0; i < n; i++)
        {
            v[i] = rng.NextGaussian();
        }

        return be.Upload(v);
    }

    private static double MatchStep(IBackend be, Rng rng, int p, bool plain, int reps)
    {
        const int M = 256, L = 100;
        DeviceBuffer z = Random(be, rng, p * M), e = Random(be, rng, p * L);
        DeviceBuffer loss = be.Allocate(1), dz = be.Allocate(p * M), dLoss = be.Upload(new[] { 1f });
        return MedianMs(() => Run(() =>
        {
            if (plain)
            {
                be.EuclideanMatchLossForward(z, e, p, M, L, loss);
                be.EuclideanMatchLossBackward(z, e, p, M, L, dLoss, dz);
            }
            else
            {
                be.MatchLossForward(z, e, p, M, L, loss);
                be.MatchLossBackward(z, e, p, M, L, dLoss, dz);
            }
        }), reps, 1);
    }

    /// <summary>One DeepAE (784-1000-500-250-256) + L_mm (l = 100) step with Adam, in ms.</summary>
    public static double TrainingStep(IBackend be, int batch, int reps)
    {
        var runner = new TrainingStepRunner(be, batch);
        return MedianMs(runner.Step, reps, 3);
    }

    private static double MedianMs(Func<double> run, int reps, int warmup)
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
