using System.Collections.Concurrent;
using Mmae.Kernels.Gpu;
using Xunit;

namespace Mmae.Tests.Kernels;

/// <summary>
/// A fact that runs only where ILGPU finds a device of the given kind (<c>cuda</c> or
/// <c>opencl</c>); elsewhere it is skipped with a reason naming what was missing. Each kind is
/// probed once per test run.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class GpuFactAttribute : FactAttribute
{
    private static readonly ConcurrentDictionary<string, string?> s_skipReasons = new();

    /// <summary>Skips the test unless a device of <paramref name="kind"/> is present.</summary>
    public GpuFactAttribute(string kind)
    {
        Kind = kind;
        Skip = s_skipReasons.GetOrAdd(kind, Probe);
    }

    /// <summary>The device kind the test needs.</summary>
    public string Kind { get; }

    // Lists devices without opening one (GpuBackend.DeviceNames), so discovery stays fast on
    // machines without a GPU; any failure to even look (a broken driver) becomes the reason.
    private static string? Probe(string kind)
    {
        try
        {
            return GpuBackend.DeviceNames(kind).Count > 0
                ? null
                : $"Gpu: needs a {kind} device: {GpuBackend.MissingDeviceMessage(kind)}";
        }
        catch (Exception ex)
        {
            return $"Gpu: needs a {kind} device: listing devices failed: {ex.Message}";
        }
    }
}
