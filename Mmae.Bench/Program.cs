using BenchmarkDotNet.Running;
using Mmae.Bench;

// `dotnet run -c Release --project Mmae.Bench -- step [batch]` times the end-to-end training
// step; anything else goes to BenchmarkDotNet's switcher (e.g. `--filter *Gemm*`).
if (args.Length > 0 && args[0] == "step")
{
    int batch = args.Length > 1
        ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture)
        : 128;
    TrainingStepFigure.Run(batch);
    return;
}

if (args.Length > 0 && args[0] == "gemm")
{
    int threads = args.Length > 1
        ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture)
        : Environment.ProcessorCount;
    GemmFigure.Run(threads);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(TrainingStepFigure).Assembly).Run(args);
