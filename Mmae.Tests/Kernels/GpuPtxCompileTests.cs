using System.Reflection;
using System.Text.RegularExpressions;
using ILGPU;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using Mmae.Kernels.Gpu;
using Xunit;

namespace Mmae.Tests.Kernels;

/// <summary>
/// Every kernel of the GPU backend compiles to PTX for Ampere (sm_80) and Hopper (sm_90)
/// through ILGPU's PTX backend, with no GPU and no CUDA driver: a kernel that uses something
/// the PTX backend cannot lower (an unsupported intrinsic, a managed allocation, a shared-memory
/// size that is not a constant) fails here on any machine, not on first use on a device.
/// </summary>
/// <remarks>
/// Compiling is the whole check: ptxas and the driver are not run, so register or shared
/// memory limits of a real device are checked only by the CUDA tests.
/// </remarks>
public sealed class GpuPtxCompileTests(PtxCompilers compilers) : IClassFixture<PtxCompilers>
{
    /// <summary>Every kernel name of <see cref="GpuBackend.Kernels"/> for each target.</summary>
    public static TheoryData<string, string> KernelsAndTargets()
    {
        var data = new TheoryData<string, string>();
        foreach (string target in PtxCompilers.Targets)
        {
            foreach (var kernel in GpuBackend.Kernels)
            {
                data.Add(kernel.Name, target);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(KernelsAndTargets))]
    public void Kernel_CompilesToPtx_WithItsEntryPoint(string kernelName, string target)
    {
        var kernel = GpuBackend.Kernels.Single(k => k.Name == kernelName);

        string ptx = compilers.Compile(kernel, target);

        // ILGPU targets the oldest architecture that has every capability it needs (as it does
        // on a real device), so the header may name an older one than asked, never a newer one.
        var header = Regex.Match(ptx, @"^\.target sm_(\d+)", RegexOptions.Multiline);
        Assert.True(header.Success, $"{kernelName}: no .target line in the PTX");
        Assert.InRange(int.Parse(header.Groups[1].Value), 50, int.Parse(target[3..]));
        Assert.Contains($".entry Kernel_{kernelName}(", ptx, StringComparison.Ordinal);
    }

    [Fact]
    public void Kernels_NamesAreUnique_AndEveryKernelMethodIsListed()
    {
        string[] listed = GpuBackend.Kernels.Select(k => k.Name).ToArray();
        string[] declared = typeof(GpuBackend)
            .GetMethods(BindingFlags.Static | BindingFlags.NonPublic)
            .Where(m => m.Name.EndsWith("Kernel", StringComparison.Ordinal))
            .Select(m => m.Name)
            .ToArray();

        Assert.Equal(listed.Length, listed.Distinct().Count());
        Assert.Equal(declared.Order(), listed.Order());
    }
}

/// <summary>One ILGPU context and one PTX backend per target, shared by a test class.</summary>
public sealed class PtxCompilers : IDisposable
{
    /// <summary>The targets: Ampere (A100) and Hopper (H100, H200).</summary>
    public static readonly string[] Targets = ["sm_80", "sm_90"];

    private readonly Context _context = Context.Create(b => GpuBackend.Configure(b));
    private readonly Dictionary<string, PTXBackend> _backends = [];

    /// <summary>
    /// The PTX text of <paramref name="kernel"/> for <paramref name="target"/>, compiled with
    /// the oldest PTX ISA that knows the architecture (7.0 for sm_80, 7.8 for sm_90), the
    /// lowest a driver could be asked to load.
    /// </summary>
    internal string Compile(GpuKernel kernel, string target)
    {
        if (!_backends.TryGetValue(target, out var backend))
        {
            (CudaArchitecture architecture, CudaInstructionSet isa) = target switch
            {
                "sm_80" => (CudaArchitecture.SM_80, CudaInstructionSet.ISA_70),
                "sm_90" => (CudaArchitecture.SM_90, CudaInstructionSet.ISA_78),
                _ => throw new ArgumentException($"unknown PTX target {target}", nameof(target)),
            };
            backend = new PTXBackend(
                _context, new CudaCapabilityContext(architecture), architecture, isa, null);
            _backends[target] = backend;
        }

        var compiled = backend.Compile(kernel.EntryPoint, KernelSpecialization.Empty);
        return ((PTXCompiledKernel)compiled).PTXAssembly;
    }

    /// <summary>Frees the backends and the context.</summary>
    public void Dispose()
    {
        foreach (var backend in _backends.Values)
        {
            backend.Dispose();
        }

        _context.Dispose();
    }
}
