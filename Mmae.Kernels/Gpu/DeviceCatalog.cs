using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using ILGPU;
using ILGPU.Backends.OpenCL;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace Mmae.Kernels.Gpu;

/// <summary>One accelerator that ILGPU found, as <c>mmae devices</c> lists it.</summary>
/// <param name="Kind">The <c>--device</c> name that selects this kind: <c>cuda</c>, <c>opencl</c>
/// or <c>ilgpu-cpu</c>.</param>
/// <param name="Name">The device name the driver reports.</param>
/// <param name="MemoryBytes">Device memory in bytes, or null for host memory (ILGPU's CPU
/// accelerator).</param>
/// <param name="Version">Compute capability, PTX version and driver (CUDA), OpenCL C version and
/// platform (OpenCL), or the group shape (ILGPU CPU).</param>
/// <param name="Usable">Whether ILGPU can compile kernels for it.</param>
/// <param name="Note">Why it is not usable, or an empty string.</param>
public sealed record DeviceEntry(
    string Kind,
    string Name,
    long? MemoryBytes,
    string Version,
    bool Usable,
    string Note);

/// <summary>
/// Enumerates the accelerators ILGPU can see (CUDA, OpenCL, its CPU accelerator), usable or
/// not, without opening any of them.
/// </summary>
/// <remarks>
/// ILGPU skips a driver it cannot load (no libcuda, no OpenCL ICD loader) and lists nothing
/// for it; <see cref="CudaDriverNote"/> tells those two cases apart for logs. Usability is
/// ILGPU's own filter: a CUDA device needs a PTX instruction set that the driver and ILGPU
/// share; an OpenCL device needs OpenCL C 2.0 and generic address space support. A usable
/// device can still refuse one of our kernels; only <see cref="GpuBackend.Create"/> finds out.
/// </remarks>
public static class DeviceCatalog
{
    /// <summary>Every CUDA, OpenCL and ILGPU CPU device, in that order.</summary>
    public static IReadOnlyList<DeviceEntry> Enumerate()
    {
        var entries = new List<DeviceEntry>();
        using Context? context = TryCreateContext(entries);
        if (context is null)
        {
            return entries;
        }

        foreach (Device device in context.Devices)
        {
            entries.Add(device switch
            {
                CudaDevice cuda => Describe(cuda),
                CLDevice cl => Describe(cl),
                CPUDevice cpu => new DeviceEntry("ilgpu-cpu", cpu.Name, null,
                    $"{cpu.WarpSize}-lane warps, {cpu.MaxNumThreadsPerGroup}-thread groups",
                    true, ""),
                _ => new DeviceEntry(device.AcceleratorType.ToString().ToLowerInvariant(), device.Name,
                    device.MemorySize, "", false, "not a kind this build runs kernels on"),
            });
        }

        return entries;
    }

    /// <summary>
    /// Why no CUDA device may be listed: whether the CUDA driver library loads at all.
    /// </summary>
    /// <returns><c>CUDA driver (libcuda) not installed</c> when the library does not load,
    /// otherwise <c>CUDA driver loaded, no usable device</c>.</returns>
    public static string CudaDriverNote()
    {
        string library = OperatingSystem.IsWindows() ? "nvcuda.dll" : "libcuda.so.1";
        if (!NativeLibrary.TryLoad(library, out IntPtr handle))
        {
            return $"CUDA driver ({library}) not installed";
        }

        NativeLibrary.Free(handle);
        return "CUDA driver loaded, no usable device";
    }

    /// <summary>
    /// ILGPU imports the drivers as <c>cuda</c> and <c>OpenCL</c>, which .NET looks for as
    /// libcuda.so and libOpenCL.so: the unversioned names that only development packages
    /// install. A machine with just the NVIDIA driver (or just an ICD loader) has libcuda.so.1
    /// (libOpenCL.so.1), so when the plain lookup fails this loads the versioned name.
    /// </summary>
    /// <remarks>It runs when Mmae.Kernels is loaded, before any ILGPU call can ask for a driver,
    /// and only adds a last-chance handler: a library found the usual way is never replaced.
    /// </remarks>
#pragma warning disable CA2255 // The library itself must register it: every GpuBackend user needs it.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void RegisterVersionedDriverNames() =>
        AssemblyLoadContext.Default.ResolvingUnmanagedDll += LoadVersionedDriver;

    private static IntPtr LoadVersionedDriver(Assembly assembly, string name)
    {
        string? versioned = name switch
        {
            "cuda" => "libcuda.so.1",
            "OpenCL" => "libOpenCL.so.1",
            _ => null,
        };
        return versioned is not null && OperatingSystem.IsLinux() && NativeLibrary.TryLoad(versioned, out IntPtr handle)
            ? handle
            : IntPtr.Zero;
    }

    // Every device, usable or not: the predicates say yes and Describe says which can run.
    private static Context? TryCreateContext(List<DeviceEntry> entries)
    {
        try
        {
            return Context.Create(b => b
                .Cuda(_ => true)
                .OpenCL(_ => true)
                .CPU(GpuBackend.CpuDevice));
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException
            or TypeInitializationException or NotSupportedException or InvalidOperationException)
        {
            // ILGPU hides driver errors during enumeration; this is for the rest (a 32-bit
            // process, a broken driver install).
            entries.Add(new DeviceEntry("ilgpu", "(none)", null, "", false,
                "ILGPU could not start: " + ex.Message));
            return null;
        }
    }

    private static DeviceEntry Describe(CudaDevice d)
    {
        string arch = d.Architecture is { } a ? $"compute {a.Major}.{a.Minor}" : "compute ?";
        string isa = d.InstructionSet is { } i ? $"PTX {i.Major}.{i.Minor}" : "no PTX version";
        bool usable = d.InstructionSet is { } set && PTXCodeGenerator.SupportedInstructionSets.Contains(set);
        string note = usable
            ? ""
            : "ILGPU and this driver share no PTX instruction set (update the NVIDIA driver)";
        return new DeviceEntry("cuda", d.Name, d.MemorySize, $"{arch}, {isa}, driver {d.DriverVersion}",
            usable, note);
    }

    private static DeviceEntry Describe(CLDevice d)
    {
        CLCVersion version = d.CLStdVersion, minimum = CLBackend.MinimumVersion;
        bool recentEnough = version >= minimum;
        bool generic = d.Capabilities.GenericAddressSpace;
        string note = !recentEnough
            ? $"ILGPU needs OpenCL C {minimum.Major}.{minimum.Minor} or later"
            : !generic
                ? "the driver lacks generic address space support, which ILGPU's OpenCL backend needs"
                : "";
        return new DeviceEntry("opencl", d.Name, d.MemorySize,
            $"OpenCL C {version.Major}.{version.Minor}, {d.PlatformName.Trim()}", recentEnough && generic, note);
    }
}
