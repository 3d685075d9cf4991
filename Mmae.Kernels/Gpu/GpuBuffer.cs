using ILGPU;
using ILGPU.Runtime;

namespace Mmae.Kernels.Gpu;

/// <summary>A block of float32 elements in an ILGPU accelerator's memory.</summary>
/// <remarks>
/// A zero-length buffer still holds one device element, because some ILGPU accelerators refuse
/// empty allocations; <see cref="Length"/> reports the logical length.
/// </remarks>
public sealed class GpuBuffer : DeviceBuffer, IDisposable
{
    private readonly GpuBackend _backend;
    private readonly int _length;

    internal GpuBuffer(GpuBackend backend, MemoryBuffer1D<float, Stride1D.Dense> memory, int length)
    {
        _backend = backend;
        Memory = memory;
        _length = length;
    }

    /// <summary>The device memory (at least one element, see the remarks).</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Memory { get; }

    /// <summary>A view over all device elements, as kernels take it.</summary>
    public ArrayView<float> View => Memory.View;

    /// <inheritdoc/>
    public override int Length => _length;

    /// <inheritdoc/>
    public override IBackend Backend => _backend;

    /// <summary>Frees the device memory now rather than at finalisation.</summary>
    public void Dispose() => Memory.Dispose();
}
