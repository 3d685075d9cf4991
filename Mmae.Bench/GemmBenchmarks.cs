using BenchmarkDotNet.Attributes;
using Mmae.Kernels;
using Mmae.Kernels.Cpu;
using Mmae.Kernels.Scalar;

namespace Mmae.Bench;

/// <summary>
/// SGEMM in the three transposes a Linear layer needs, at the DeepAE's shapes. GFLOP/s =
/// 2·m·n·k / time. The scalar float64 oracle is the baseline.
/// </summary>
[MemoryDiagnoser]
public class GemmBenchmarks
{
    private IBackend _cpu = null!;
    private IBackend _scalar = null!;
    private DeviceBuffer _a = null!, _b = null!, _c = null!;
    private DeviceBuffer _sa = null!, _sb = null!, _sc = null!;

    /// <summary>m×n×k: forward of 784→1000 at batch 128 and 1024, and 1024³.</summary>
    [Params("128x1000x784", "1024x1000x784", "1024x1024x1024")]
    public string Shape { get; set; } = "";

    [Params(false, true)]
    public bool TransB { get; set; }

    private (int M, int N, int K) Dims
    {
        get
        {
            int[] d = Shape.Split('x').Select(int.Parse).ToArray();
            return (d[0], d[1], d[2]);
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        _cpu = new CpuBackend();
        _scalar = new ScalarBackend();
        var (m, n, k) = Dims;
        var rng = new Random(1);
        double[] a = Enumerable.Range(0, m * k).Select(_ => rng.NextDouble() - 0.5).ToArray();
        double[] b = Enumerable.Range(0, k * n).Select(_ => rng.NextDouble() - 0.5).ToArray();
        (_a, _b, _c) = (_cpu.Upload(a), _cpu.Upload(b), _cpu.Allocate(m * n));
        (_sa, _sb, _sc) = (_scalar.Upload(a), _scalar.Upload(b), _scalar.Allocate(m * n));
    }

    [Benchmark(Baseline = true)]
    public void Scalar()
    {
        var (m, n, k) = Dims;
        _scalar.Gemm(false, TransB, m, n, k, 1f, _sa, _sb, 0f, _sc);
    }

    [Benchmark]
    public void CpuSimd()
    {
        var (m, n, k) = Dims;
        _cpu.Gemm(false, TransB, m, n, k, 1f, _a, _b, 0f, _c);
    }
}
