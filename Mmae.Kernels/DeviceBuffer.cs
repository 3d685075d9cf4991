namespace Mmae.Kernels;

/// <summary>A block of elements owned by one backend (host memory or device memory).</summary>
public abstract class DeviceBuffer
{
    /// <summary>Number of elements.</summary>
    public abstract int Length { get; }

    /// <summary>The backend that owns the memory and runs kernels on it.</summary>
    public abstract IBackend Backend { get; }
}

/// <summary>A buffer in host memory holding float32 elements.</summary>
public sealed class FloatBuffer : DeviceBuffer
{
    private readonly IBackend _backend;

    /// <summary>Wraps <paramref name="data"/> without copying it.</summary>
    public FloatBuffer(IBackend backend, float[] data)
    {
        _backend = backend;
        Data = data;
    }

    /// <summary>The elements.</summary>
    public float[] Data { get; }

    /// <inheritdoc/>
    public override int Length => Data.Length;

    /// <inheritdoc/>
    public override IBackend Backend => _backend;
}

/// <summary>A buffer in host memory holding float64 elements (the scalar oracle backend).</summary>
public sealed class DoubleBuffer : DeviceBuffer
{
    private readonly IBackend _backend;

    /// <summary>Wraps <paramref name="data"/> without copying it.</summary>
    public DoubleBuffer(IBackend backend, double[] data)
    {
        _backend = backend;
        Data = data;
    }

    /// <summary>The elements.</summary>
    public double[] Data { get; }

    /// <inheritdoc/>
    public override int Length => Data.Length;

    /// <inheritdoc/>
    public override IBackend Backend => _backend;
}
