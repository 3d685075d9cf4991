using System.Globalization;
using Mmae.Kernels.Gpu;
using Mmae.Tests.Kernels;
using Mmae.Train.Cli;
using Mmae.Train.Data;
using Mmae.Train.Output;
using Xunit;

namespace Mmae.Tests.Train;

/// <summary>
/// --device and <c>mmae devices</c>: the device actually chosen, the one-line failures, and a
/// whole training run on a device backend agreeing with the CPU backend.
/// </summary>
public class DeviceTests
{
    /// <summary>
    /// Allowed relative difference of an epoch's mean losses between a device backend and the
    /// CPU backend. The first step's losses differ only by float32 summation order; Adam then
    /// turns differences in the last bits of tiny gradients into parameter changes of up to
    /// lr each. Measured on ILGPU's CPU accelerator: 4e-8 (reconstruction) and 4e-6 (match,
    /// the smaller term). 1e-3 leaves room for a GPU's different summation trees and still
    /// catches a kernel that is wrong, which moves the losses by percents.
    /// </summary>
    private const double EpochLossTolerance = 1e-3;

    private static readonly Lazy<bool> s_cudaPresent = new(() => GpuBackend.DeviceNames("cuda").Count > 0);

    private static bool CudaPresent => s_cudaPresent.Value;

    private static (int Code, string Out, string Err) Mmae(params string[] args) => TrainTestSupport.RunMmae(args);

    [Fact]
    public void Devices_ListsBothCpuEntriesAndTheAutoChoice()
    {
        var (code, output, _) = Mmae("devices");

        Assert.Equal(0, code);
        string[] lines = output.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("cpu ", StringComparison.Ordinal) && l.Contains(" yes ")
            && l.Contains("threads"));
        Assert.Contains(lines, l => l.StartsWith("ilgpu-cpu ", StringComparison.Ordinal) && l.Contains(" yes "));
        Assert.Contains(lines, l => l.StartsWith("cuda ", StringComparison.Ordinal));
        Assert.Contains(CudaPresent ? "auto picks: cuda" : "auto picks: cpu", output);
    }

    [Fact]
    public void Help_MentionsDevicesCommandAndDeviceOption()
    {
        Assert.Contains("devices", Mmae("--help").Out);
        string train = Mmae("train", "--help").Out;
        Assert.Contains("--device", train);
        Assert.Contains("ilgpu-cpu", train);
    }

    [Fact]
    public void Train_DeviceCuda_RunsOnCudaOrFailsWithOneLine()
    {
        using var tmp = new TempFolder();
        string data = TinyDigits(tmp, 100);
        string run = tmp.File("run");
        var (code, output, err) = Mmae(TinyRun(data, run, "cuda"));

        if (CudaPresent)
        {
            Assert.True(code == 0, err);
            Assert.StartsWith("device: gpu-cuda on ", output);
        }
        else
        {
            Assert.Equal(CommandLine.RunError, code);
            string line = Assert.Single(err.TrimEnd().Split('\n'));
            Assert.StartsWith("mmae: error: --device cuda: no cuda device found", line);
            Assert.Contains("CUDA driver", line);
            Assert.False(Directory.Exists(run));
        }
    }

    [Fact]
    public void Train_DeviceOpenCl_RunsOrFailsWithOneLineNamingTheRequirement()
    {
        using var tmp = new TempFolder();
        var (code, output, err) = Mmae(TinyRun(TinyDigits(tmp, 100), tmp.File("run"), "opencl"));

        if (DeviceCatalog.Enumerate().Any(d => d.Kind == "opencl" && d.Usable))
        {
            // A listed device may still refuse one of our kernels; then the line says so.
            Assert.True(code == 0 || err.Contains("generic address space"), err);
            Assert.True(code != 0 || output.StartsWith("device: gpu-opencl on ", StringComparison.Ordinal));
        }
        else
        {
            Assert.Equal(CommandLine.RunError, code);
            string line = Assert.Single(err.TrimEnd().Split('\n'));
            Assert.StartsWith("mmae: error: --device opencl: no opencl device found", line);
            Assert.Contains("generic address space", line);
        }
    }

    [Fact]
    public void Train_DeviceAuto_SaysWhichDeviceAndWhy()
    {
        using var tmp = new TempFolder();
        var (code, output, err) = Mmae(TinyRun(TinyDigits(tmp, 100), tmp.File("run"), "auto"));

        Assert.True(code == 0, err);
        string first = output.Split('\n')[0];
        if (CudaPresent)
        {
            Assert.Contains("running gpu-cuda kernels (auto)", first);
        }
        else
        {
            Assert.StartsWith("GPU: none found (", first);
            Assert.Contains("running CPU SIMD kernels: cpu-", first);
        }
    }

    [Fact]
    public void Train_IlgpuCpu_EpochLossesAgreeWithCpu() => AssertAgreesWithCpu("ilgpu-cpu");

    [GpuFact("cuda")]
    public void Train_Cuda_EpochLossesAgreeWithCpu() => AssertAgreesWithCpu("cuda");

    // Trains the same tiny run on the CPU backend and on `device` and compares losses.csv;
    // then `mmae encode` on the device must reproduce the run's latent.npy bit for bit.
    private static void AssertAgreesWithCpu(string device)
    {
        using var tmp = new TempFolder();
        string data = TinyDigits(tmp, 200);
        string run = tmp.File(device);
        var (cpuCode, _, cpuErr) = Mmae(TinyRun(data, tmp.File("cpu"), "cpu"));
        var (code, output, err) = Mmae(TinyRun(data, run, device));
        var (encodeCode, encodeOutput, encodeErr) = Mmae("encode", run, "--data", data, "--device", device,
            "--out", tmp.File("codes.npy"));

        Assert.True(cpuCode == 0, cpuErr);
        Assert.True(code == 0, err);
        Assert.True(encodeCode == 0, encodeErr);
        Assert.StartsWith($"device: gpu-{device} on ", output);
        Assert.StartsWith($"device: gpu-{device} on ", encodeOutput);
        Assert.Equal(Npy.Read(Path.Combine(run, "latent.npy")).Data, Npy.Read(tmp.File("codes.npy")).Data);
        double[] expected = EpochLosses(tmp.File("cpu"));
        double[] actual = EpochLosses(tmp.File(device));
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double diff = Math.Abs(actual[i] - expected[i]);
            Assert.True(diff <= EpochLossTolerance * Math.Abs(expected[i]),
                $"losses.csv value {i}: cpu {expected[i]:R}, {device} {actual[i]:R}, |diff| {diff:E2}");
        }
    }

    // Reconstruction, match and total loss of every epoch, from a run's losses.csv.
    private static double[] EpochLosses(string run) => File.ReadAllLines(Path.Combine(run, "losses.csv"))
        .Skip(1)
        .SelectMany(l => l.Split(',')[1..4])
        .Select(v => double.Parse(v, CultureInfo.InvariantCulture))
        .ToArray();

    // One epoch (two steps on 200 samples) of a small DeepAE on 7×7 digits: ILGPU's CPU
    // accelerator runs every kernel on 256 host threads per group, so this takes it seconds.
    private static string[] TinyRun(string data, string run, string device) =>
    [
        "train", "--data", data, "--device", device, "--epochs", "1", "--batch", "100",
        "--hidden", "16", "--latent", "3", "--reference", "pca:2", "--eval-size", "60",
        "--threads", "2", "--out", run,
    ];

    /// <summary>
    /// The first n bundled digits shrunk to 7×7 (4×4 block means) as a raw IDX folder: real
    /// digits, but small enough that ILGPU's CPU accelerator trains on them in seconds.
    /// </summary>
    private static string TinyDigits(TempFolder tmp, int n)
    {
        string bundled = CommandLine.BundledMnist;
        IdxImages images = IdxReader.ReadImages(Path.Combine(bundled, "images-idx3-ubyte.gz"));
        byte[] labels = IdxReader.ReadLabels(Path.Combine(bundled, "labels-idx1-ubyte.gz"));
        byte[] small = new byte[n * 49];
        for (int i = 0; i < n; i++)
        {
            for (int r = 0; r < 7; r++)
            {
                for (int c = 0; c < 7; c++)
                {
                    int sum = 0;
                    for (int k = 0; k < 16; k++)
                    {
                        sum += images.Pixels[i * 784 + (4 * r + k / 4) * 28 + 4 * c + k % 4];
                    }

                    small[i * 49 + r * 7 + c] = (byte)(sum / 16);
                }
            }
        }

        string dir = Path.Combine(tmp.Path, "digits7x7");
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, "images-idx3-ubyte"), TrainTestSupport.Idx(0x803, [n, 7, 7], small));
        File.WriteAllBytes(Path.Combine(dir, "labels-idx1-ubyte"),
            TrainTestSupport.Idx(0x801, [n], labels.AsSpan(0, n).ToArray()));
        return dir;
    }
}
