using System.Globalization;
using ILGPU.Runtime.Cuda;
using Mmae.Engine;
using Mmae.Kernels;
using Mmae.Kernels.Gpu;

namespace Mmae.Bench;

/// <summary>
/// The GPU figures in one quick pass without BenchmarkDotNet (which needs the .NET SDK to build
/// its runners, and the GPU machine has only the published executable): L_mm, SGEMM and the
/// training step on an ILGPU backend, as a markdown table in the layout of
/// tools/gpu/torch_cuda_reference.py. Each figure is the median wall time after warm-up, with
/// the device queue drained inside the timed region.
/// </summary>
public static class GpuFigures
{
    /// <summary>Runs every case on the first device of <paramref name="kind"/>; returns the exit
    /// code (1 with one line on stderr when the device is missing or refuses a kernel).</summary>
    /// <param name="kind">cuda, opencl or ilgpu-cpu.</param>
    /// <param name="smoke">Tiny sizes that only check the path end to end (for ILGPU's CPU
    /// accelerator, where the real sizes would take hours); the numbers mean nothing.</param>
    public static int Run(string kind, bool smoke)
    {
        GpuBackend be;
        try
        {
            be = GpuBackend.Create(kind);
        }
        catch (Exception ex) when (ex is InvalidOperationException or NotSupportedException or ArgumentException)
        {
            Console.Error.WriteLine($"gpu: {ex.Message}");
            return 1;
        }

        using (be)
        {
            Cases c = smoke ? Cases.Smoke : Cases.Full;
            var rng = new Rng(0);
            Console.WriteLine($"# Mmae {be.Name} on {be.DeviceName}{(smoke ? " (smoke sizes, not a benchmark)" : "")}");
            Console.WriteLine();
            Console.WriteLine("| case | ms |");
            Console.WriteLine("|---|---|");

            // First, on a fresh backend, so that no earlier call has grown the scratch buffers.
            Row($"L_mm extra device memory (Gram form), p = {c.MatchSizes[^1]}", ExtraMemory(be, rng, c));

            foreach (int p in c.MatchSizes)
            {
                double ms = Figures.MatchStep(be, rng, p, false, c.Reps(p >= 65536 ? 5 : 15), c.M, c.L,
                    be.Synchronize, c.Warmup(1));
                Row($"L_mm fwd+bwd (Gram form), p = {p}", Inv($"{ms:F3}"));
            }

            double plain = Figures.MatchStep(be, rng, c.PlainP, true, c.Reps(5), c.M, c.L, be.Synchronize,
                c.Warmup(1));
            Row($"L_mm fwd+bwd plain distances, p = {c.PlainP}", Inv($"{plain:F3}"));

            int n = c.GemmSize;
            DeviceBuffer a = Figures.Random(be, rng, n * n), b = Figures.Random(be, rng, n * n);
            DeviceBuffer dst = be.Allocate(n * n);
            double gemm = Figures.MedianMs(() => Figures.Run(() =>
            {
                be.Gemm(false, false, n, n, n, 1f, a, b, 0f, dst);
                be.Synchronize();
            }), c.Reps(10), c.Warmup(2));
            Row($"SGEMM {n}³", Inv($"{gemm:F3} ({2.0 * n * n * n / gemm / 1e6:F0} GFLOP/s)"));

            foreach (int batch in c.Batches)
            {
                var runner = new TrainingStepRunner(be, batch, c.InputDim, c.Latent, c.RefDim, c.Hidden);
                double ms = Figures.MedianMs(runner.Step, c.Reps(batch >= 8192 ? 10 : 20), c.Warmup(3));
                Row($"training step, batch {batch}", Inv($"{ms:F2} ({batch * 1000 / ms:F0} samples/s)"));
            }
        }

        return 0;
    }

    private static void Row(string what, string value) => Console.WriteLine($"| {what} | {value} |");

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// Device memory that one L_mm forward + backward keeps beyond its inputs (z, e, dz): the
    /// drop in free memory across the first call, as the CUDA driver reports it (in 2 MiB
    /// pages). ILGPU exposes free memory only for CUDA.
    /// </summary>
    private static string ExtraMemory(GpuBackend be, Rng rng, Cases c)
    {
        int p = c.MatchSizes[^1];
        DeviceBuffer z = Figures.Random(be, rng, p * c.M), e = Figures.Random(be, rng, p * c.L);
        DeviceBuffer loss = be.Allocate(1), dz = be.Allocate(p * c.M), dLoss = be.Upload(new[] { 1f });
        be.Synchronize();
        long before = FreeCudaMemory(be);
        be.MatchLossForward(z, e, p, c.M, c.L, loss);
        be.MatchLossBackward(z, e, p, c.M, c.L, dLoss, dz);
        be.Synchronize();
        long after = FreeCudaMemory(be);
        double inputs = (2.0 * p * c.M + (double)p * c.L) * sizeof(float) / (1 << 20);
        string what = Inv($"(inputs z, e and dz: {inputs:F1} MiB)");
        if (be.Kind != "cuda")
        {
            return $"not measured: ILGPU reports free memory only for CUDA {what}";
        }

        return before < 0 || after < 0
            ? $"not measured: cuMemGetInfo failed {what}"
            : Inv($"{(before - after) / (double)(1 << 20):F1} MiB {what}");
    }

    // cuMemGetInfo for the context ILGPU made current on this thread when it opened the device;
    // -1 on another kind of device or when the driver call fails.
    private static long FreeCudaMemory(GpuBackend be) =>
        be.Kind == "cuda" && CudaAPI.CurrentAPI.GetMemoryInfo(out long free, out _) == CudaError.CUDA_SUCCESS
            ? free
            : -1;

    /// <summary>The sizes of one pass: the real ones, or tiny ones for a smoke test.</summary>
    private sealed record Cases(
        int[] MatchSizes,
        int M,
        int L,
        int PlainP,
        int GemmSize,
        int[] Batches,
        int InputDim,
        int Latent,
        int RefDim,
        int[]? Hidden,
        bool Once = false)
    {
        // The issue's sizes: m = 256, l = 100, the DeepAE 784-1000-500-250-256.
        public static Cases Full { get; } =
            new([1024, 8192, 65536, 262144], 256, 100, 8192, 4096, [1024, 8192], 784, 256, 100, null);

        // Small enough for ILGPU's CPU accelerator (256 host threads per group) on two cores.
        // Each case runs once, without warm-up.
        public static Cases Smoke { get; } = new([32, 64], 16, 8, 64, 64, [16, 32], 49, 8, 4, [16], Once: true);

        public int Reps(int full) => Once ? 1 : full;

        public int Warmup(int full) => Once ? 0 : full;
    }
}
