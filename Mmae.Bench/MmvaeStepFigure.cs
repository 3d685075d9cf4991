using System.Diagnostics;
using System.Globalization;
using Mmae.Engine;
using Mmae.Engine.Modules;
using Mmae.Engine.Optim;
using Mmae.Kernels.Cpu;
using Mmae.Train.Training;

namespace Mmae.Bench;

/// <summary>
/// Wall-clock figure of one dSprites MMVAE training step as `mmae train --arch dsprites
/// --model vae` runs it: the trainer's <see cref="Objective"/> (reparameterised sample,
/// squared error, β·KL, λ·L_mm on the means against a reference), backward and Adam, at one
/// batch size. tools/bench/torch_dsprites_vae.py times the same step in PyTorch.
/// </summary>
public static class MmvaeStepFigure
{
    /// <summary>Prints the median, best and CPU time per step over <paramref name="steps"/> steps
    /// after 3 warm-ups.</summary>
    public static void Run(int batch, int threads, int steps = 10, int latent = 256, int refDim = 100)
    {
        var backend = new CpuBackend(threads);
        var options = new TrainOptions
        {
            Arch = "dsprites", Model = "vae", Latent = latent, Lambda = 1f, Batch = batch, Threads = threads,
        };
        var rng = new Rng(0);
        Autoencoder model = ModelFactory.Build(Architecture.Of(options, 4096), backend, rng);
        var adam = new Adam(model.Parameters(), new AdamOptions());
        var objective = new Objective(options);
        var x = new float[batch * 4096];
        var e = new float[batch * refDim];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = rng.NextDouble() < 0.2 ? 1f : -1f;
        }

        for (int i = 0; i < e.Length; i++)
        {
            e[i] = (float)rng.NextGaussian();
        }

        var noise = new Rng(1);
        var workspace = new Workspace(backend);
        void Step()
        {
            using var scope = workspace.Step();
            Tensor xt = Tensor.Input(backend, x, batch, 4096);
            Tensor et = Tensor.Input(backend, e, batch, refDim);
            adam.ZeroGrad();
            StepTerms terms = objective.Compute(model, xt, et, 1f, noise);
            terms.Total.Backward();
            adam.Step();
            _ = terms.Total.Item();
        }

        for (int i = 0; i < 3; i++)
        {
            Step();
        }

        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var times = new List<double>();
        for (int i = 0; i < steps; i++)
        {
            var sw = Stopwatch.StartNew();
            Step();
            times.Add(sw.Elapsed.TotalSeconds);
        }

        double cpuS = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds / steps;
        times.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"mmae {threads} threads: dSprites MMVAE step, batch {batch}, latent {latent}: "
            + $"median {Median(times):F3} s/step (min {times[0]:F3}, CPU {cpuS:F3} s/step)"));
    }

    // The middle value of sorted times (the mean of the two middle ones for an even count).
    private static double Median(List<double> sorted) =>
        (sorted[(sorted.Count - 1) / 2] + sorted[sorted.Count / 2]) / 2;
}
