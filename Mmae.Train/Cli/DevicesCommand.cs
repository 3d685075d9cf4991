using System.Globalization;
using Mmae.Kernels.Cpu;
using Mmae.Kernels.Gpu;

namespace Mmae.Train.Cli;

/// <summary><c>mmae devices</c>: what --device can choose on this machine.</summary>
public static class DevicesCommand
{
    /// <summary>Lists the devices (and, with --probe, opens each usable kind) and returns the
    /// exit code: 0, also when no GPU is present.</summary>
    public static int Run(string[] args, TextWriter stdout)
    {
        bool probe = false;
        var table = new OptionTable("devices",
                "List the devices --device can choose: our SIMD CPU backend, then what ILGPU finds\n"
                + "(CUDA, OpenCL, its CPU accelerator), with memory, version and whether it is usable.")
            .Flag("probe", "also compile every kernel on the first device of each usable kind",
                () => probe = true);
        if (!table.Parse(args))
        {
            stdout.WriteLine(table.Usage());
            return 0;
        }

        if (table.Positionals.Count > 0)
        {
            throw new UsageException($"unexpected argument '{table.Positionals[0]}'", table.Usage());
        }

        var cpu = new CpuBackend();
        var rows = new List<DeviceEntry>
        {
            new("cpu", $"{cpu.Name}, our SIMD kernels", GC.GetGCMemoryInfo().TotalAvailableMemoryBytes,
                $"{Devices.SimdLanes} float lanes, {cpu.Threads} threads", true, ""),
        };
        IReadOnlyList<DeviceEntry> found = DeviceCatalog.Enumerate();
        rows.AddRange(found);
        if (!found.Any(d => d.Kind == "cuda"))
        {
            rows.Add(new DeviceEntry("cuda", "(none)", null, "", false, DeviceCatalog.CudaDriverNote()));
        }

        if (!found.Any(d => d.Kind == "opencl"))
        {
            rows.Add(new DeviceEntry("opencl", "(none)", null, "", false, "no OpenCL platform found"));
        }

        stdout.WriteLine($"{"kind",-10} {"usable",-6} {"memory",-10} {"version",-44} name");
        foreach (DeviceEntry d in rows)
        {
            string usable = d.Usable ? "yes" : "no";
            string memory = d.MemoryBytes is { } bytes ? Gib(bytes) : d.Usable ? "host" : "-";
            stdout.WriteLine($"{d.Kind,-10} {usable,-6} {memory,-10} {d.Version,-44} {d.Name}");
            if (d.Note.Length > 0)
            {
                stdout.WriteLine($"{"",-29}note: {d.Note}");
            }
        }

        bool cuda = found.Any(d => d.Kind == "cuda" && d.Usable);
        stdout.WriteLine(cuda
            ? "--device auto picks: cuda (the first CUDA device)"
            : "--device auto picks: cpu (no usable CUDA device)");
        if (probe)
        {
            foreach (string kind in found.Where(d => d.Usable).Select(d => d.Kind).Distinct())
            {
                stdout.WriteLine($"probe {kind}: {Probe(kind)}");
            }
        }

        return 0;
    }

    private static string Gib(long bytes) =>
        string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F1} GiB");

    // Opening a backend compiles every kernel, so this is the real test of usability.
    private static string Probe(string kind)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            using GpuBackend backend = GpuBackend.Create(kind);
            return string.Create(CultureInfo.InvariantCulture,
                $"ok, every kernel compiled on {backend.DeviceName} in {sw.Elapsed.TotalSeconds:F1} s");
        }
        catch (Exception ex) when (ex is InvalidOperationException or NotSupportedException)
        {
            return "failed: " + ex.Message;
        }
    }
}
