using Mmae.Kernels;

namespace Mmae.Tests.Kernels;

/// <summary>Test shorthands over <see cref="IBackend"/>.</summary>
internal static class BackendExtensions
{
    /// <summary>A host copy of a buffer's elements, widened to double.</summary>
    public static double[] ToArray(this IBackend backend, DeviceBuffer buffer)
    {
        var values = new double[buffer.Length];
        backend.Download(buffer, values);
        return values;
    }

    /// <summary>The single element of a one-element buffer (a loss, a norm).</summary>
    public static double Scalar(this IBackend backend, DeviceBuffer buffer)
    {
        return backend.ToArray(buffer)[0];
    }
}
