using BenchmarkDotNet.Attributes;
using Mmae.Kernels;
using Mmae.Kernels.Cpu;
using Mmae.Kernels.Scalar;

namespace Mmae.Bench;

/// <summary>Squared pairwise distances of p points in 256 dimensions (p×p output).</summary>
public class DistanceBenchmarks
{
    private const int Dim = 256;
    private IBackend _cpu = null!, _scalar = null!;
    private DeviceBuffer _x = null!, _d = null!, _sx = null!, _sd = null!;

    [Params(128, 1024)]
    public int P { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _cpu = new CpuBackend();
        _scalar = new ScalarBackend();
        var rng = new Random(2);
        double[] x = Enumerable.Range(0, P * Dim).Select(_ => rng.NextDouble()).ToArray();
        (_x, _d) = (_cpu.Upload(x), _cpu.Allocate(P * P));
        (_sx, _sd) = (_scalar.Upload(x), _scalar.Allocate(P * P));
    }

    [Benchmark(Baseline = true)]
    public void Scalar() => _scalar.PairwiseSquaredDistances(_sx, P, Dim, _sd);

    [Benchmark]
    public void Cpu() => _cpu.PairwiseSquaredDistances(_x, P, Dim, _d);
}
