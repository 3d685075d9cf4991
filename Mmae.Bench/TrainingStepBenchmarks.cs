using BenchmarkDotNet.Attributes;
using Mmae.Kernels.Cpu;

namespace Mmae.Bench;

/// <summary>The DeepAE + L_mm training step (forward, backward, Adam) at three batch sizes.</summary>
public class TrainingStepBenchmarks
{
    private TrainingStepRunner _runner = null!;

    [Params(128, 256, 1024)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup() => _runner = new TrainingStepRunner(new CpuBackend(), Batch);

    [Benchmark]
    public double Step() => _runner.Step();
}
