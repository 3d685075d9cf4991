using System.Diagnostics;
using Mmae.Engine;
using Mmae.Engine.Modules;
using Mmae.Engine.Optim;
using Mmae.Kernels.Cpu;

namespace Mmae.Bench;

/// <summary>
/// Wall-clock figure for one DeepAE + L_mm training step (784-1000-500-250-256, Adam), the
/// number compared with PyTorch in docs/benchmarks.md. Random inputs; the cost does not
/// depend on the values.
/// </summary>
public static class TrainingStepFigure
{
    public static void Run(int batch)
    {
        var backend = new CpuBackend();
        var rng = new Rng(0);
        var model = new DeepAutoencoder(backend, 784, 256, rng);
        var adam = new Adam(model.Parameters());
        var x = new double[batch * 784];
        var e = new double[batch * 100];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = rng.Uniform(-1, 1);
        }

        for (int i = 0; i < e.Length; i++)
        {
            e[i] = rng.NextGaussian();
        }

        Tensor xt = Tensor.FromArray(backend, x, batch, 784);
        Tensor et = Tensor.FromArray(backend, e, batch, 100);
        var workspace = new Workspace(backend);
        void Step()
        {
            using var scope = workspace.Step();
            adam.ZeroGrad();
            Tensor z = model.Encoder.Forward(xt);
            Tensor recon = model.Decoder.Forward(z);
            Tensor loss = Losses.Mse(recon, xt) + 1f * Losses.ManifoldMatch(z, et);
            loss.Backward();
            adam.Step();
        }

        for (int i = 0; i < 5; i++)
        {
            Step();
        }

        const int Steps = 30;
        int gen0 = GC.CollectionCount(0), gen2 = GC.CollectionCount(2);
        long allocated = GC.GetTotalAllocatedBytes();
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < Steps; i++)
        {
            Step();
        }

        double ms = sw.Elapsed.TotalMilliseconds / Steps;
        Console.WriteLine(FormattableString.Invariant(
            $"per step: {(GC.GetTotalAllocatedBytes() - allocated) / Steps / 1e6:F2} MB allocated, ")
            + FormattableString.Invariant($"{(GC.CollectionCount(0) - gen0) / (double)Steps:F2} gen0 and ")
            + FormattableString.Invariant($"{(GC.CollectionCount(2) - gen2) / (double)Steps:F2} gen2 GCs"));
        if (Environment.GetEnvironmentVariable("MMAE_STEP_PARTS") == "1")
        {
            double fwd = 0, bwd = 0, opt = 0;
            for (int i = 0; i < Steps; i++)
            {
                using var scope = workspace.Step();
                long t0 = Stopwatch.GetTimestamp();
                adam.ZeroGrad();
                Tensor z = model.Encoder.Forward(xt);
                Tensor recon = model.Decoder.Forward(z);
                Tensor loss = Losses.Mse(recon, xt) + 1f * Losses.ManifoldMatch(z, et);
                long t1 = Stopwatch.GetTimestamp();
                loss.Backward();
                long t2 = Stopwatch.GetTimestamp();
                adam.Step();
                long t3 = Stopwatch.GetTimestamp();
                fwd += Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds;
                bwd += Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds;
                opt += Stopwatch.GetElapsedTime(t2, t3).TotalMilliseconds;
            }

            Console.WriteLine(FormattableString.Invariant(
                $"forward {fwd / Steps:F1} ms, backward {bwd / Steps:F1} ms, adam {opt / Steps:F1} ms"));
        }
        Console.WriteLine(
            $"training step, batch {batch}, {backend.Name}, {backend.Threads} threads: "
            + $"{ms:F1} ms ({batch * 1000 / ms:F0} samples/s)");
    }
}
