using ILGPU.Runtime;
using Mmae.Kernels;
using Mmae.Kernels.Cpu;
using Mmae.Kernels.Gpu;

namespace Mmae.Train.Cli;

/// <summary>The backend a command computes on, and the start-up line saying why.</summary>
public sealed class DeviceChoice : IDisposable
{
    internal DeviceChoice(IBackend backend, string why)
    {
        Backend = backend;
        Why = why;
    }

    /// <summary>The backend every kernel of the command runs on.</summary>
    public IBackend Backend { get; }

    /// <summary>One line for the start-up log: the device and why it was chosen.</summary>
    public string Why { get; }

    /// <summary>Frees the device (GPU memory, ILGPU context); a CPU backend holds nothing.</summary>
    public void Dispose() => (Backend as IDisposable)?.Dispose();
}

/// <summary>Turns --device and --threads into a backend, and says why it was chosen.</summary>
public static class Devices
{
    /// <summary>Names --device accepts.</summary>
    public static readonly string[] Supported = ["auto", "cpu", "cuda", "opencl", "ilgpu-cpu"];

    /// <summary>The --device help text.</summary>
    public const string Help =
        "compute device: auto (CUDA if present, else cpu), cpu, cuda, opencl, or ilgpu-cpu "
        + "(GPU kernels on host threads, for testing); `mmae devices` lists them";

    /// <summary>Checks a --device value.</summary>
    /// <exception cref="ArgumentException">The device is unknown.</exception>
    public static string Validate(string device) => Supported.Contains(device)
        ? device
        : throw new ArgumentException($"unknown device; supported: {string.Join(", ", Supported)}");

    /// <summary>
    /// Opens the backend for a device name. <c>auto</c> takes the first CUDA device and falls
    /// back to the SIMD CPU backend when there is none or it refuses a kernel; any other name
    /// gets exactly that device or fails.
    /// </summary>
    /// <param name="device">One of <see cref="Supported"/>.</param>
    /// <param name="threads">CPU backend threads; 0 means every core. GPU kinds ignore it.</param>
    /// <exception cref="InvalidOperationException">The device asked for is missing or refuses
    /// one of our kernels; the message is one line saying which and what to do.</exception>
    public static DeviceChoice Create(string device, int threads)
    {
        switch (device)
        {
            case "cpu":
            {
                CpuBackend cpu = Cpu(threads);
                return new DeviceChoice(cpu, $"device: {Describe(cpu)} (asked for cpu)");
            }

            case "auto":
                return Auto(threads);
            default:
            {
                GpuBackend gpu = OpenGpu(device);
                return new DeviceChoice(gpu, $"device: {gpu.Name} on {gpu.DeviceName} (asked for {device})");
            }
        }
    }

    /// <summary>The CPU backend's description: name, SIMD width and threads.</summary>
    public static string Describe(CpuBackend cpu) =>
        $"{cpu.Name} ({SimdLanes} float lanes) with {cpu.Threads} threads";

    /// <summary>Float lanes one SIMD instruction of the CPU backend handles: 8 with AVX2/FMA,
    /// 1 where it falls back to plain loops.</summary>
    public static int SimdLanes => System.Runtime.Intrinsics.X86.Fma.IsSupported ? 8 : 1;

    private static CpuBackend Cpu(int threads) => threads > 0 ? new CpuBackend(threads) : new CpuBackend();

    private static DeviceChoice Auto(int threads)
    {
        string reason;
        try
        {
            GpuBackend gpu = GpuBackend.Create("cuda");
            return new DeviceChoice(gpu, $"GPU: {gpu.DeviceName}, running {gpu.Name} kernels (auto)");
        }
        catch (InvalidOperationException)
        {
            reason = $"none found ({DeviceCatalog.CudaDriverNote()})";
        }
        catch (Exception ex) when (ex is NotSupportedException or AcceleratorException)
        {
            // A device that refuses a kernel, or a driver error opening it (out of memory, a GPU
            // in exclusive use by another process).
            reason = $"CUDA device unusable ({FirstLine(ex.Message)})";
        }

        CpuBackend cpu = Cpu(threads);
        return new DeviceChoice(cpu, $"GPU: {reason}, running CPU SIMD kernels: {Describe(cpu)}");
    }

    private static GpuBackend OpenGpu(string kind)
    {
        try
        {
            return GpuBackend.Create(kind);
        }
        catch (InvalidOperationException ex)
        {
            string driver = kind == "cuda" ? $"; {DeviceCatalog.CudaDriverNote()}" : "";
            throw new InvalidOperationException(
                $"--device {kind}: {ex.Message.TrimEnd('.')}{driver}. `mmae devices` lists what is here; "
                + "--device cpu always works.", ex);
        }
        catch (Exception ex) when (ex is NotSupportedException or AcceleratorException)
        {
            string hint = kind == "opencl"
                ? " OpenCL drivers without generic address space support cannot run ILGPU kernels."
                : "";
            throw new InvalidOperationException(
                $"--device {kind}: {FirstLine(ex.Message).TrimEnd('.')}.{hint} Use --device cpu instead.", ex);
        }
    }

    // Driver messages can run to several lines; the log and the error keep the first.
    private static string FirstLine(string text) => text.Split('\n', 2)[0].TrimEnd('\r');
}
