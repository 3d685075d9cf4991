using System.Diagnostics;
using Mmae.Kernels.Cpu;

namespace Mmae.Bench;

/// <summary>Quick GFLOP/s figure for SGEMM at a few shapes (median of repeated runs).</summary>
public static class GemmFigure
{
    public static void Run(int threads)
    {
        var be = new CpuBackend(threads);
        (int M, int N, int K, bool TA, bool TB, string What)[] cases =
        [
            (1024, 1024, 1024, false, false, "1024³ NN"),
            (1000, 1000, 1000, false, false, "1000³ NN"),
            (128, 1000, 784, false, true, "fwd 784→1000, batch 128 (NT)"),
            (128, 784, 1000, false, false, "dx 1000→784, batch 128 (NN)"),
            (1000, 784, 128, true, false, "dW 784→1000, batch 128 (TN)"),
            (1024, 1000, 784, false, true, "fwd 784→1000, batch 1024 (NT)"),

            // The dSprites conv network at batch 64 (see Mmae.Engine/Ops/Convolution.cs).
            (32, 65536, 16, false, false, "conv1 fwd / convT4 dx (NN)"),
            (32, 16, 65536, false, true, "conv1 / convT4 dW (NT)"),
            (64, 16384, 512, false, false, "conv2 fwd / convT3 dx (NN)"),
            (64, 512, 16384, false, true, "conv2 / convT3 dW (NT)"),
            (512, 16384, 64, true, false, "conv2 dx / convT3 fwd (TN)"),
            (128, 4096, 1024, false, false, "conv3 fwd / convT2 dx (NN)"),
            (128, 1024, 4096, false, true, "conv3 / convT2 dW (NT)"),
            (1024, 4096, 128, true, false, "conv3 dx / convT2 fwd (TN)"),
            (256, 1024, 2048, false, false, "conv4 fwd / convT1 dx (NN)"),
            (256, 2048, 1024, false, true, "conv4 / convT1 dW (NT)"),
            (2048, 1024, 256, true, false, "conv4 dx / convT1 fwd (TN)"),
            (16, 65536, 32, true, false, "convT4 fwd (TN)"),
            (64, 512, 4096, false, true, "linear 4096→512 fwd, batch 64 (NT)"),
            (64, 4096, 512, false, false, "linear 4096→512 dx, batch 64 (NN)"),
            (512, 4096, 64, true, false, "linear 4096→512 dW, batch 64 (TN)"),
        ];
        var rng = new Random(1);
        foreach (var c in cases)
        {
            var a = be.Upload(Enumerable.Range(0, c.M * c.K).Select(_ => (float)rng.NextDouble()).ToArray());
            var b = be.Upload(Enumerable.Range(0, c.K * c.N).Select(_ => (float)rng.NextDouble()).ToArray());
            var dst = be.Allocate(c.M * c.N);
            var times = new List<double>();
            for (int r = 0; r < 60; r++)
            {
                var sw = Stopwatch.StartNew();
                be.Gemm(c.TA, c.TB, c.M, c.N, c.K, 1f, a, b, 0f, dst);
                times.Add(sw.Elapsed.TotalSeconds);
            }

            // The median is the figure; the best run shows what the kernel does undisturbed
            // when other processes share the cores.
            times.Sort();
            double med = times[times.Count / 2], best = times[0];
            double flop = 2.0 * c.M * c.N * c.K;
            Console.WriteLine(FormattableString.Invariant(
                $"{c.What,-34} {med * 1e3,8:F3} ms  {flop / med / 1e9,7:F1} GFLOP/s  (best {flop / best / 1e9:F1})"));
        }
    }
}
