using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

// ILGPU emits its CPU-accelerator launchers into a dynamic assembly of this name; the kernels
// and their argument structs are internal, so that assembly must see them.
[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("ILGPURuntime")]

namespace Mmae.Kernels.Gpu;

/// <summary>
/// The float32 device backend over an ILGPU <see cref="Accelerator"/>: CUDA, OpenCL, or
/// ILGPU's CPU accelerator (which runs the same kernels on host threads, for tests).
/// </summary>
/// <remarks>
/// <para>
/// Buffers live in device memory. Kernels are queued on the accelerator's default stream and
/// only host copies wait for them (<see cref="Upload(ReadOnlySpan{float})"/>,
/// <see cref="Write"/> and <see cref="Download(DeviceBuffer, Span{float})"/>: ILGPU finishes
/// the stream around each copy), so a training step copies its batch in and nothing out;
/// losses stay in one-element device buffers and the backward kernels read dLoss from device
/// memory.
/// </para>
/// <para>
/// Limitation: kernels index with 32-bit ints, so a buffer holds fewer than 2³¹ elements
/// (p² of a pairwise-distance matrix included, so p ≤ 46340).
/// </para>
/// <para>
/// An instance keeps scratch memory between calls, so it serves one caller at a time, like
/// the CPU backend. Device memory is freed when a <see cref="GpuBuffer"/> is disposed or
/// finalised, and all of it when the backend is disposed.
/// </para>
/// <para>
/// Every kernel is compiled when the backend is created, so a device that refuses one fails
/// then, with the kernel's name, rather than in the middle of training.
/// </para>
/// <para>
/// Reductions add in a fixed order that depends only on the problem size and the device kind,
/// and use no atomics, so results repeat bit for bit on one device; different devices (or the
/// CPU backend) may differ in the last bits.
/// </para>
/// </remarks>
public sealed partial class GpuBackend : IBackend, IDisposable
{
    // Threads per group of every explicitly grouped kernel: 16×16 tiles, or 256 lanes of a
    // reduction. Fixed at compile time because shared-memory sizes derive from it.
    internal const int GroupSize = 256;
    internal const int Tile = 16;

    private readonly Context _context;
    private readonly Accelerator _accelerator;
    private readonly AcceleratorStream _stream;
    private readonly Dictionary<string, MemoryBuffer1D<double, Stride1D.Dense>> _scratch = [];
    private readonly int _reduceGroupLimit;

    private GpuBackend(Context context, Device device, string kind)
    {
        _context = context;
        _accelerator = device.CreateAccelerator(context);
        _stream = _accelerator.DefaultStream;
        Kind = kind;
        Name = $"gpu-{kind}";
        _reduceGroupLimit = ReduceGroupLimit(_accelerator);
        foreach (GpuKernel kernel in Kernels)
        {
            try
            {
                kernel.Bind(this, kernel.Load(_accelerator));
            }
            catch (Exception ex)
            {
                Dispose();
                throw new NotSupportedException(
                    $"{Name}: device '{device.Name}' refused kernel {kernel.Name}: "
                    + FirstLine(ex.Message), ex);
            }
        }
    }

    /// <summary>Which kind of accelerator: <c>cuda</c>, <c>opencl</c> or <c>ilgpu-cpu</c>.
    /// </summary>
    public string Kind { get; }

    /// <summary>The ILGPU device name, for logs.</summary>
    public string DeviceName => _accelerator.Name;

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public int ElementSize => sizeof(float);

    /// <summary>
    /// Opens the first device of a kind: <c>cuda</c>, <c>opencl</c>, or <c>ilgpu-cpu</c> (ILGPU's
    /// CPU accelerator with 256-thread groups).
    /// </summary>
    /// <exception cref="ArgumentException">The kind is not one of the three.</exception>
    /// <exception cref="InvalidOperationException">No device of that kind was found.</exception>
    /// <exception cref="NotSupportedException">The device refused to compile a kernel.</exception>
    public static GpuBackend Create(string kind)
    {
        Context context = CreateContext(kind);
        Device? device = context.Devices.FirstOrDefault(d => IsKind(d, kind));
        if (device is null)
        {
            context.Dispose();
            throw new InvalidOperationException(MissingDeviceMessage(kind));
        }

        try
        {
            return new GpuBackend(context, device, kind);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The names of the devices of a kind that ILGPU finds on this machine, in the order
    /// <see cref="Create"/> considers them (it opens the first); empty when there is none.
    /// Opens no device and compiles nothing.
    /// </summary>
    /// <param name="kind"><c>cuda</c>, <c>opencl</c> or <c>ilgpu-cpu</c>.</param>
    /// <exception cref="ArgumentException">The kind is not one of the three.</exception>
    public static IReadOnlyList<string> DeviceNames(string kind)
    {
        using Context context = CreateContext(kind);
        return context.Devices.Where(d => IsKind(d, kind)).Select(d => d.Name).ToArray();
    }

    /// <summary>Why <see cref="Create"/> finds no device of a kind, and what it would need.
    /// </summary>
    internal static string MissingDeviceMessage(string kind) => kind switch
    {
        "cuda" => "no cuda device found (needs an NVIDIA GPU and its driver, libcuda)",
        "opencl" => "no opencl device found (ILGPU lists only OpenCL 2.0+ devices with generic "
            + "address space support)",
        _ => $"no {kind} device found",
    };

    private static Context CreateContext(string kind) => kind switch
    {
        "cuda" => Context.Create(b => Configure(b.Cuda())),
        "opencl" => Context.Create(b => Configure(b.OpenCL())),
        "ilgpu-cpu" => Context.Create(b => Configure(b.CPU(CpuDevice))),
        _ => throw new ArgumentException(
            $"GpuBackend: unknown device kind '{kind}'; supported: cuda, opencl, ilgpu-cpu",
            nameof(kind)),
    };

    private static bool IsKind(Device device, string kind) => device.AcceleratorType switch
    {
        AcceleratorType.Cuda => kind == "cuda",
        AcceleratorType.OpenCL => kind == "opencl",
        AcceleratorType.CPU => kind == "ilgpu-cpu",
        _ => false,
    };

    /// <summary>
    /// The ILGPU settings every kind compiles with: the algorithms library (XMath on every
    /// backend) and IEEE float and double math (no fast-math approximations).
    /// </summary>
    internal static Context.Builder Configure(Context.Builder builder) =>
        builder.EnableAlgorithms().Math(MathMode.Default);

    /// <summary>
    /// ILGPU's CPU accelerator shaped like a small GPU: 4-lane warps, 64 warps per group (so
    /// 256-thread groups fit), one multiprocessor.
    /// </summary>
    internal static CPUDevice CpuDevice { get; } = new(4, 64, 1);

    /// <inheritdoc/>
    public DeviceBuffer Allocate(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var memory = _accelerator.Allocate1D<float>(Math.Max(length, 1));
        memory.MemSetToZero(_stream);
        return new GpuBuffer(this, memory, length);
    }

    /// <inheritdoc/>
    public DeviceBuffer Upload(ReadOnlySpan<float> data)
    {
        DeviceBuffer buffer = Allocate(data.Length);
        Write(data, buffer);
        return buffer;
    }

    /// <inheritdoc/>
    public DeviceBuffer Upload(ReadOnlySpan<double> data)
    {
        var floats = new float[data.Length];
        for (int i = 0; i < data.Length; i++)
        {
            floats[i] = (float)data[i];
        }

        return Upload(floats);
    }

    /// <inheritdoc/>
    /// <remarks>Writes in place; ILGPU waits for the stream, so <paramref name="src"/> may be
    /// reused as soon as this returns.</remarks>
    public void Write(ReadOnlySpan<float> src, DeviceBuffer dst)
    {
        if (src.Length > 0)
        {
            V(dst).SubView(0, src.Length).CopyFromCPU(_stream, src);
        }
    }

    /// <inheritdoc/>
    public void Download(DeviceBuffer src, Span<float> dst)
    {
        if (dst.Length > 0)
        {
            G(src).Memory.View.SubView(0, dst.Length).CopyToCPU(_stream, dst);
        }

        _stream.Synchronize();
    }

    /// <inheritdoc/>
    public void Download(DeviceBuffer src, Span<double> dst)
    {
        var floats = new float[dst.Length];
        Download(src, floats);
        for (int i = 0; i < dst.Length; i++)
        {
            dst[i] = floats[i];
        }
    }

    /// <summary>Waits for every queued kernel (for timing).</summary>
    public void Synchronize() => _stream.Synchronize();

    /// <summary>Frees scratch memory, the accelerator and the ILGPU context.</summary>
    public void Dispose()
    {
        foreach (var buffer in _scratch.Values)
        {
            buffer.Dispose();
        }

        _scratch.Clear();
        _accelerator.Dispose();
        _context.Dispose();
    }

    /// <summary>
    /// A float64 work area of at least <paramref name="length"/> elements, kept between calls.
    /// Kernels run in order on one stream, so reuse across calls is safe.
    /// </summary>
    private ArrayView<double> Scratch(string key, long length)
    {
        length = Math.Max(length, 1);
        if (!_scratch.TryGetValue(key, out var buffer) || buffer.Length < length)
        {
            // Kernels already queued may still read the old buffer: let them finish first.
            _stream.Synchronize();
            buffer?.Dispose();
            buffer = _accelerator.Allocate1D<double>(length);
            _scratch[key] = buffer;
        }

        return buffer.View;
    }

    // A grid of x·y·z groups of GroupSize threads; an empty extent still launches one group.
    private static KernelConfig Groups(int x, int y = 1, int z = 1) =>
        new(
            new Index3D(Math.Max(x, 1), Math.Max(y, 1), Math.Max(z, 1)),
            new Index3D(GroupSize, 1, 1));

    private static int Ceil(long n, int d) => (int)((n + d - 1) / d);

    private static string FirstLine(string text)
    {
        int newline = text.IndexOfAny(['\r', '\n']);
        return newline < 0 ? text : text[..newline];
    }

    private GpuBuffer G(DeviceBuffer buffer)
    {
        if (buffer is GpuBuffer gb && ReferenceEquals(gb.Backend, this))
        {
            return gb;
        }

        throw new ArgumentException(
            $"{Name}: buffer belongs to backend '{buffer.Backend.Name}', not this one. "
            + "Move tensors to one device before combining them.", nameof(buffer));
    }

    private ArrayView<float> V(DeviceBuffer buffer) => G(buffer).View;

    /// <summary>
    /// Every kernel of the backend, each with the launcher field it fills. The constructor
    /// compiles exactly these for its device; the PTX tests compile the same list for sm_80 and
    /// sm_90 without one.
    /// </summary>
    internal static IReadOnlyList<GpuKernel> Kernels { get; } =
    [
        .. ElementwiseKernels,
        .. GemmKernels,
        .. BatchNormKernels,
        .. ReductionKernels,
        .. LossKernels,
        .. AdamKernels,
        .. DistanceKernels,
        .. GramKernels,
        .. EuclideanKernels,
        .. VaeKernels,
        .. ConvKernels,
    ];

    /// <summary>A list entry: <paramref name="kernel"/> and the field its launcher goes to.
    /// </summary>
    private static GpuKernel Define<TLauncher>(Delegate kernel, LauncherField<TLauncher> field)
        where TLauncher : Delegate =>
        new BoundKernel<TLauncher>(kernel, field);

    /// <summary>Points at a launcher field of a backend instance.</summary>
    private delegate ref TLauncher LauncherField<TLauncher>(GpuBackend backend);

    /// <summary>A kernel whose compiled launcher (taking the stream first) fills one field.
    /// </summary>
    private sealed class BoundKernel<TLauncher>(Delegate kernel, LauncherField<TLauncher> field)
        : GpuKernel(kernel)
        where TLauncher : Delegate
    {
        internal override void Bind(GpuBackend backend, Kernel compiled) =>
            field(backend) = compiled.CreateLauncherDelegate<TLauncher>();
    }
}

/// <summary>One kernel method of <see cref="GpuBackend"/> and how ILGPU groups its threads.
/// </summary>
internal abstract class GpuKernel(Delegate kernel)
{
    /// <summary>The static kernel method.</summary>
    public MethodInfo Method { get; } = kernel.Method;

    /// <summary>The method name; ILGPU names the PTX entry <c>Kernel_</c> + this.</summary>
    public string Name => Method.Name;

    /// <summary>
    /// True for a kernel that takes no index and reads Grid and Group itself (it uses shared
    /// memory and barriers, and is launched with a KernelConfig of GroupSize-thread groups);
    /// false for one whose first parameter is an ILGPU index, grouped automatically.
    /// </summary>
    public bool ExplicitlyGrouped =>
        Method.GetParameters() is not [var first, ..]
        || !typeof(IIndex).IsAssignableFrom(first.ParameterType);

    /// <summary>The entry point ILGPU compiles for this kernel.</summary>
    public EntryPointDescription EntryPoint => ExplicitlyGrouped
        ? EntryPointDescription.FromExplicitlyGroupedKernel(Method)
        : EntryPointDescription.FromImplicitlyGroupedKernel(Method);

    /// <summary>Compiles the kernel for <paramref name="accelerator"/>.</summary>
    public Kernel Load(Accelerator accelerator) => ExplicitlyGrouped
        ? accelerator.LoadKernel(Method)
        : accelerator.LoadAutoGroupedKernel(Method);

    /// <summary>Stores the launcher of <paramref name="compiled"/> in its backend field.</summary>
    internal abstract void Bind(GpuBackend backend, Kernel compiled);
}
