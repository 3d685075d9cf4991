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
