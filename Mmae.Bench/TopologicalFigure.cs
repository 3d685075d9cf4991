using System.Globalization;
using Mmae.Engine;
using Mmae.Kernels;
using Mmae.Kernels.Cpu;

namespace Mmae.Bench;

/// <summary>
/// One DeepAE training step (784-1000-500-250-256, forward, backward, Adam) with MMAE's L_mm
/// against a random 100-D reference, next to the same step with the topological loss of
/// TopoAE instead, and their ratio. The loss term alone (forward and backward, codes and batch
/// fixed) is timed too, to show where the difference goes.
/// </summary>
public static class TopologicalFigure
{
    /// <summary>Prints the figures for one batch size on the SIMD CPU backend: the median of
    /// <paramref name="reps"/> steps of each, taken in turns.</summary>
    public static void Run(int batch, int threads, int reps = 20)
    {
        var be = new CpuBackend(threads);
        var mmae = new TrainingStepRunner(be, batch);
        var topo = new TrainingStepRunner(be, batch, regularizer: (x, z, _) => Losses.Topological(x, z));
        (double mmaeMs, double topoMs) = InterleavedMedians(mmae.Step, topo.Step, reps, 3);

        var rng = new Rng(2);
        (double mmaeTerm, double topoTerm) = TermsAlone(be, rng, batch, reps);
        Console.WriteLine(Inv($"training step, batch {batch}, {be.Name}, {be.Threads} threads, median of {reps}:"));
        Console.WriteLine(Inv($"  MMAE   (L_rec + L_mm, l = 100) {mmaeMs,8:F2} ms/step")
            + Inv($"   L_mm alone   {mmaeTerm,6:F2} ms"));
        Console.WriteLine(Inv($"  TopoAE (L_rec + L_topo)        {topoMs,8:F2} ms/step")
            + Inv($"   L_topo alone {topoTerm,6:F2} ms"));
        Console.WriteLine(Inv($"  ratio TopoAE / MMAE            {topoMs / mmaeMs,8:F2}"));
    }

    // The two steps run in turns, so load from other processes that comes and goes weighs on
    // both alike and the ratio stays meaningful on a shared machine.
    private static (double A, double B) InterleavedMedians(Func<double> a, Func<double> b, int reps, int warmup)
    {
        var ta = new double[reps];
        var tb = new double[reps];
        for (int i = 0; i < warmup + reps; i++)
        {
            double msA = Figures.MedianMs(a, 1, 0), msB = Figures.MedianMs(b, 1, 0);
            if (i >= warmup)
            {
                ta[i - warmup] = msA;
                tb[i - warmup] = msB;
            }
        }

        Array.Sort(ta);
        Array.Sort(tb);
        return (ta[reps / 2], tb[reps / 2]);
    }

    // Forward and backward of each loss term alone on fixed x (batch×784), z (batch×256) and
    // e (batch×100), so the figure separates the regulariser from the network.
    private static (double Mmae, double Topo) TermsAlone(IBackend be, Rng rng, int batch, int reps)
    {
        Tensor Leaf(int cols, bool grad)
        {
            var values = new double[batch * cols];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = rng.NextGaussian();
            }

            Tensor t = Tensor.FromArray(be, values, batch, cols);
            t.RequiresGrad = grad;
            return t;
        }

        Tensor x = Leaf(784, false), z = Leaf(256, true), e = Leaf(100, false);
        var ws = new Workspace(be);
        double Time(Func<Tensor> term) => Figures.MedianMs(() =>
        {
            using var step = ws.Step();
            z.Grad = null;
            Tensor loss = term();
            loss.Backward();
            return loss.Item();
        }, reps, 3);

        return (Time(() => Losses.ManifoldMatch(z, e)), Time(() => Losses.Topological(x, z)));
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
