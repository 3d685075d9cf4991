using Mmae.Kernels;
using Mmae.Kernels.Cpu;

namespace Mmae.Train.Cli;

/// <summary>Turns --device and --threads into a backend, and says why it was chosen.</summary>
public static class Devices
{
    /// <summary>Names --device accepts.</summary>
    public static readonly string[] Supported = ["auto", "cpu"];

    /// <summary>Checks a --device value.</summary>
    /// <exception cref="ArgumentException">The device is unknown.</exception>
    public static string Validate(string device) => Supported.Contains(device)
        ? device
        : throw new ArgumentException(
            $"unknown device; supported: {string.Join(", ", Supported)} "
            + "(this build has no GPU backend yet)");

    /// <summary>The backend for a device and thread count, and a line saying why.</summary>
    public static (IBackend Backend, string Why) Create(string device, int threads)
    {
        // Limitation: only the CPU backend exists in this build, so auto always picks it.
        var cpu = threads > 0 ? new CpuBackend(threads) : new CpuBackend();
        string why = device == "auto"
            ? $"device: {cpu.Name} with {cpu.Threads} threads (auto: no GPU backend in this build)"
            : $"device: {cpu.Name} with {cpu.Threads} threads (asked for cpu)";
        return (cpu, why);
    }
}
