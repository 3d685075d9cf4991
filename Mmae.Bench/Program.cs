using System.Globalization;
using BenchmarkDotNet.Running;
using Mmae.Bench;

// Modes (all with `dotnet run -c Release --project Mmae.Bench -- MODE`):
//   figures [threads] [--quick]  the table of docs/benchmarks.md, next to the PyTorch script's
//   step [batch]                 one training-step figure with allocation and GC counts
//   gemm [threads]               SGEMM GFLOP/s at the DeepAE's shapes
//   lmm [p] [threads]            L_mm forward and backward timed apart, both kernels
//   topo [batch] [threads]       training step with L_mm against the same with TopoAE's loss
//   conv [batch] [threads]       dSprites conv AE forward+backward, ms/step
//   columns [batch] [threads]    conv products through a stored column matrix vs implicit
//   mmvae [batch] [threads] [steps]  dSprites MMVAE training step (objective, backward, Adam), s/step
//   gpu [KIND] [--smoke]         L_mm, SGEMM and training-step figures on an ILGPU device
//                                (KIND cuda by default, opencl, or ilgpu-cpu with --smoke)
//   anything else                BenchmarkDotNet (e.g. `--filter *MatchLoss*`, `--job short`)
int IntArg(int index, int fallback) =>
    args.Length > index && int.TryParse(args[index], NumberStyles.Integer, CultureInfo.InvariantCulture, out int v)
        ? v
        : fallback;

switch (args.FirstOrDefault())
{
    case "figures":
        Figures.Run(IntArg(1, Environment.ProcessorCount), args.Contains("--quick"));
        break;
    case "step":
        TrainingStepFigure.Run(IntArg(1, 128));
        break;
    case "lmm":
        MatchLossFigure.Run(IntArg(1, 4096), IntArg(2, Environment.ProcessorCount));
        break;
    case "topo":
        TopologicalFigure.Run(IntArg(1, 128), IntArg(2, Environment.ProcessorCount));
        break;
    case "mmvae":
        MmvaeStepFigure.Run(IntArg(1, 64), IntArg(2, Environment.ProcessorCount), IntArg(3, 10));
        break;
    case "columns":
        ColumnGemmFigure.Run(IntArg(1, 64), IntArg(2, Environment.ProcessorCount));
        break;
    case "conv":
        ConvFigure.Run(IntArg(1, 64), IntArg(2, Environment.ProcessorCount));
        break;
    case "gemm":
        GemmFigure.Run(IntArg(1, Environment.ProcessorCount));
        break;
    case "gpu":
        return GpuFigures.Run(args.Skip(1).FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? "cuda",
            args.Contains("--smoke"));
    default:
        BenchmarkSwitcher.FromAssembly(typeof(Figures).Assembly).Run(args);
        break;
}

return 0;
