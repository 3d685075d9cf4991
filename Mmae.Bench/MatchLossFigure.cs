using System.Diagnostics;
using Mmae.Engine;
using Mmae.Kernels;
using Mmae.Kernels.Cpu;

namespace Mmae.Bench;

/// <summary>
/// L_mm forward and backward timed apart (m = 256, l = 100), for both kernels: where the time
/// of one training step's loss goes. Median and best of repeated runs.
/// </summary>
public static class MatchLossFigure
{
    public static void Run(int p, int threads)
    {
        const int M = 256, L = 100;
        var be = new CpuBackend(threads);
        var rng = new Rng(3);
        DeviceBuffer z = Upload(be, rng, p * M), e = Upload(be, rng, p * L);
        DeviceBuffer loss = be.Allocate(1), dz = be.Allocate(p * M), dLoss = be.Upload(new[] { 1f });
        // The plain-distance kernel is quadratic in p: past 16,384 points one call takes minutes.
        foreach (bool plain in p <= 16384 ? new[] { false, true } : new[] { false })
        {
            var fwd = new List<double>();
            var bwd = new List<double>();
            long allocated = GC.GetTotalAllocatedBytes(precise: true);
            int reps = plain ? 5 : 15;
            for (int r = 0; r < reps + 2; r++)
            {
                long t0 = Stopwatch.GetTimestamp();
                if (plain)
                {
                    be.EuclideanMatchLossForward(z, e, p, M, L, loss);
                }
                else
                {
                    be.MatchLossForward(z, e, p, M, L, loss);
                }

                long t1 = Stopwatch.GetTimestamp();
                if (plain)
                {
                    be.EuclideanMatchLossBackward(z, e, p, M, L, dLoss, dz);
                }
                else
                {
                    be.MatchLossBackward(z, e, p, M, L, dLoss, dz);
                }

                if (r == 0)
                {
                    // Everything the kernels allocate (scratch included) on a first call.
                    allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
                }

                if (r >= 2)
                {
                    fwd.Add(Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds);
                    bwd.Add(Stopwatch.GetElapsedTime(t1).TotalMilliseconds);
                }
            }

            fwd.Sort();
            bwd.Sort();
            string kernel = plain ? "plain (tiled)" : "squared (Gram)";
            Console.WriteLine(FormattableString.Invariant(
                $"{kernel,-15} p {p,6}: forward {fwd[reps / 2],9:F2} ms (best {fwd[0]:F2}), ")
                + FormattableString.Invariant($"backward {bwd[reps / 2],9:F2} ms (best {bwd[0]:F2}), ")
                + FormattableString.Invariant($"first call allocates {allocated / 1048576.0:F1} MiB"));
        }
    }

    private static DeviceBuffer Upload(IBackend be, Rng rng, int n)
    {
        var v = new double[n];
        for (int i = 0; i < n; i++)
        {
            v[i] = rng.NextGaussian();
        }

        return be.Upload(v);
    }
}
