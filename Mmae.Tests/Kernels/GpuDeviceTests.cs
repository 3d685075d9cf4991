using Mmae.Engine;
using Mmae.Kernels;
using Mmae.Kernels.Gpu;
using Mmae.Tests.Engine;
using Xunit;

namespace Mmae.Tests.Kernels;

/// <summary>
/// The GPU backend on a real CUDA device: the whole kernel parity harness at its full sizes,
/// the matching-loss accuracy cases, and the engine's gradients and training steps. Skipped
/// with a reason on machines without one.
/// </summary>
public sealed class CudaDeviceTests
{
    private const string Kind = "cuda";

    [GpuFact(Kind)]
    public void Create_Cuda_ReportsKindAndDevice() => GpuDeviceChecks.CreateReportsKind(Kind);

    [GpuFact(Kind)]
    public void ParityHarness_Cuda_EveryCaseMatchesOracle() => GpuDeviceChecks.ParityHarness(Kind);

    [GpuFact(Kind)]
    public void MatchLossAccuracy_Cuda_EveryCaseMatchesOracle() =>
        GpuDeviceChecks.MatchLossAccuracy(Kind);

    [GpuFact(Kind)]
    public void Engine_Cuda_AgreesWithOracleAndCpu() => GpuDeviceChecks.EngineAgreement(Kind);
}

/// <summary>As <see cref="CudaDeviceTests"/>, on an OpenCL device.</summary>
public sealed class OpenClDeviceTests
{
    private const string Kind = "opencl";

    [GpuFact(Kind)]
    public void Create_OpenCl_ReportsKindAndDevice() => GpuDeviceChecks.CreateReportsKind(Kind);

    [GpuFact(Kind)]
    public void ParityHarness_OpenCl_EveryCaseMatchesOracle() =>
        GpuDeviceChecks.ParityHarness(Kind);

    [GpuFact(Kind)]
    public void MatchLossAccuracy_OpenCl_EveryCaseMatchesOracle() =>
        GpuDeviceChecks.MatchLossAccuracy(Kind);

    [GpuFact(Kind)]
    public void Engine_OpenCl_AgreesWithOracleAndCpu() => GpuDeviceChecks.EngineAgreement(Kind);
}

/// <summary>The bodies of the device tests, one per check, for any device kind.</summary>
internal static class GpuDeviceChecks
{
    public static void CreateReportsKind(string kind)
    {
        using GpuBackend backend = GpuBackend.Create(kind);

        Assert.Equal(kind, backend.Kind);
        Assert.Equal($"gpu-{kind}", backend.Name);
        Assert.False(string.IsNullOrWhiteSpace(backend.DeviceName));
        Assert.Contains(backend.DeviceName, GpuBackend.DeviceNames(kind));
    }

    public static void ParityHarness(string kind)
    {
        using GpuBackend backend = GpuBackend.Create(kind);
        HarnessRunner.RunEveryCase(() => new DeviceParity(backend));
    }

    public static void MatchLossAccuracy(string kind)
    {
        using GpuBackend backend = GpuBackend.Create(kind);
        HarnessRunner.RunEveryCase(() => new DeviceMatchLoss(backend));
    }

    public static void EngineAgreement(string kind)
    {
        using GpuBackend backend = GpuBackend.Create(kind);
        BackendAgreementTests.AssertGradientsAgree(backend, MatchDistance.Squared);
        BackendAgreementTests.AssertGradientsAgree(backend, MatchDistance.Euclidean);
        BackendAgreementTests.AssertTrainingAgreesWithCpu(backend);
    }

    // Not public, so xunit does not run them as test classes of their own; the harness's full
    // sizes apply (no trimmed data methods).
    private sealed class DeviceParity(GpuBackend backend) : BackendParityTests
    {
        protected override IBackend CreateBackend() => backend;

        protected override bool OwnsBackend => false;
    }

    private sealed class DeviceMatchLoss(GpuBackend backend) : MatchLossAccuracyTests
    {
        protected override IBackend CreateBackend() => backend;

        protected override bool OwnsBackend => false;
    }
}
