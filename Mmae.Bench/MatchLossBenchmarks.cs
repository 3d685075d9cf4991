using BenchmarkDotNet.Attributes;
using Mmae.Kernels;
using Mmae.Kernels.Cpu;
using Mmae.Kernels.Scalar;

namespace Mmae.Bench;

/// <summary>
/// L_mm forward + backward (m = 256, l = 100): the scalar oracle's p×p matrices as the
/// baseline, the CPU Gram expansion (the default), and the tiled plain-distance kernel.
/// </summary>
public class MatchLossBenchmarks
{
    private const int M = 256, L = 100;
    private IBackend _cpu = null!, _scalar = null!;
    private DeviceBuffer _z = null!, _e = null!, _loss = null!, _dz = null!, _dLoss = null!;
    private DeviceBuffer _sz = null!, _se = null!, _sloss = null!, _sdz = null!, _sdLoss = null!;

    [Params(128, 1024, 4096, 8192)]
    public int P { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _cpu = new CpuBackend();
        _scalar = new ScalarBackend();
        var rng = new Random(1);
        double[] z = Enumerable.Range(0, P * M).Select(_ => rng.NextDouble() - 0.5).ToArray();
        double[] e = Enumerable.Range(0, P * L).Select(_ => rng.NextDouble() - 0.5).ToArray();
        (_z, _e, _loss) = (_cpu.Upload(z), _cpu.Upload(e), _cpu.Allocate(1));
        (_dz, _dLoss) = (_cpu.Allocate(P * M), _cpu.Upload(new[] { 1f }));
        (_sz, _se, _sloss) = (_scalar.Upload(z), _scalar.Upload(e), _scalar.Allocate(1));
        (_sdz, _sdLoss) = (_scalar.Allocate(P * M), _scalar.Upload(new[] { 1f }));
    }

    [Benchmark(Baseline = true)]
    public void ScalarOracle()
    {
        if (P > 1024)
        {
            return; // O(p²) float64 matrices: minutes at these sizes, and not what anyone runs.
        }

        _scalar.MatchLossForward(_sz, _se, P, M, L, _sloss);
        _scalar.MatchLossBackward(_sz, _se, P, M, L, _sdLoss, _sdz);
    }

    [Benchmark]
    public void CpuGram()
    {
        _cpu.MatchLossForward(_z, _e, P, M, L, _loss);
        _cpu.MatchLossBackward(_z, _e, P, M, L, _dLoss, _dz);
    }

    [Benchmark]
    public void CpuPlainTiled()
    {
        if (P > 4096)
        {
            return; // O(p²·(m + l)): seconds per call at 8192.
        }

        _cpu.EuclideanMatchLossForward(_z, _e, P, M, L, _loss);
        _cpu.EuclideanMatchLossBackward(_z, _e, P, M, L, _dLoss, _dz);
    }
}
