using Mmae.Kernels;
using Mmae.Kernels.Gpu;

namespace Mmae.Tests.Kernels;

/// <summary>
/// The GPU backend's kernels run on ILGPU's CPU accelerator against the float64 oracle: every
/// kernel of the device backend is checked without a GPU.
/// </summary>
public sealed class IlgpuCpuParityTests : BackendParityTests
{
    /// <inheritdoc/>
    protected override IBackend CreateBackend() => GpuBackend.Create("ilgpu-cpu");
}
