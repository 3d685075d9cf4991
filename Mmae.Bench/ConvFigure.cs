using System.Diagnostics;
using System.Globalization;
using Mmae.Engine;
using Mmae.Engine.Modules;
using Mmae.Kernels.Cpu;

namespace Mmae.Bench;

/// <summary>
/// Wall-clock figure for forward + backward of the dSprites convolutional autoencoder
/// (trunk, Linear 512 → m, decoder) with an MSE loss at one batch size: the part of a VAE
/// training step that the convolution kernels decide. Random inputs; the cost does not depend
/// on the values. Set MMAE_CONV_LAYERS=1 for a per-layer forward breakdown.
/// </summary>
public static class ConvFigure
{
    public static void Run(int batch, int threads)
    {
        var backend = new CpuBackend(threads);
        var rng = new Rng(0);
        var model = new ConvAutoencoder(backend, "dsprites", 10, rng);
        var x = new float[batch * 64 * 64];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = (float)rng.Uniform(-1, 1);
        }

        Tensor input = Tensor.FromArray(backend, x, batch, 1, 64, 64);
        Tensor target = Tensor.FromArray(backend, x, batch, 64 * 64); // the decoder returns rows
        var workspace = new Workspace(backend);
        void Step()
        {
            using var scope = workspace.Step();
            foreach (Tensor p in model.Parameters())
            {
                backend.Fill(p.Grad ??= backend.Allocate(p.Length), 0f);
            }

            Tensor loss = Losses.Mse(model.Forward(input), target);
            loss.Backward();
        }

        for (int i = 0; i < 3; i++)
        {
            Step();
        }

        // The median step is the figure; the best one and the process CPU time per step show
        // what the kernels cost when other processes share the cores.
        const int Steps = 10;
        long allocated = GC.GetTotalAllocatedBytes();
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var times = new List<double>();
        for (int i = 0; i < Steps; i++)
        {
            var sw = Stopwatch.StartNew();
            Step();
            times.Add(sw.Elapsed.TotalMilliseconds);
        }

        double cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds / Steps;
        times.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"dsprites conv AE, batch {batch}, {threads} threads: {times[Steps / 2]:F1} ms/step "
            + $"forward+backward (best {times[0]:F1}, CPU {cpuMs:F1} ms/step), "
            + $"{(GC.GetTotalAllocatedBytes() - allocated) / Steps / 1e6:F2} MB allocated per step"));
        if (Environment.GetEnvironmentVariable("MMAE_CONV_LAYERS") == "1")
        {
            LayerBreakdown(model, input, workspace);
        }
    }

    private static void LayerBreakdown(ConvAutoencoder model, Tensor input, Workspace workspace)
    {
        using var scope = workspace.Step();
        Tensor t = input;
        foreach (Module layer in model.Encoder.Layers.Concat(model.Decoder.Layers))
        {
            var sw = Stopwatch.StartNew();
            t = layer.Forward(t);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {layer.GetType().Name,-16} {ShapeText(t.Shape),-20} {sw.Elapsed.TotalMilliseconds,8:F2} ms"));
        }
    }

    private static string ShapeText(int[] shape) => "(" + string.Join(", ", shape) + ")";
}
