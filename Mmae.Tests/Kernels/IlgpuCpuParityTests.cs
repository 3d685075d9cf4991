using Mmae.Kernels;
using Mmae.Kernels.Gpu;
using Xunit;

namespace Mmae.Tests.Kernels;

/// <summary>
/// The GPU backend's kernels run on ILGPU's CPU accelerator against the float64 oracle: every
/// kernel of the device backend is checked without a GPU.
/// </summary>
/// <remarks>
/// The CPU accelerator runs each 256-thread group on 256 OS threads that meet at every
/// barrier, so one launch costs milliseconds on a small machine (tens of milliseconds when
/// the machine is busy). The sizes below are trimmed to keep what the device grid makes
/// special: lengths around one group (255..257), past the two partial-sum groups the emulator
/// uses (513, 1025: the strided loop), GEMM shapes spanning several 64×64 blocks with ragged
/// edges and a ragged last k-slab, and point counts above one 16-row tile. The full harness
/// sizes run on a real device in <see cref="CudaDeviceTests"/>.
/// </remarks>
[Collection(IlgpuCpuCollection.Name)]
public sealed class IlgpuCpuParityTests(IlgpuCpuFixture fixture) : BackendParityTests
{
    private static readonly int[] s_lengths = [0, 1, 2, 3, 5, 16, 17, 33, 255, 256, 257, 513, 1025];

    /// <inheritdoc/>
    protected override IBackend CreateBackend() => fixture.Backend;

    /// <inheritdoc/>
    protected override bool OwnsBackend => false;

    /// <inheritdoc/>
    protected override IReadOnlyList<int> ElementwiseLengths => s_lengths;

    /// <summary>
    /// The harness's GEMM shapes without the MNIST-sized layer (tens of seconds per case on
    /// the emulator): 65×129×33 spans 2×3 blocks of C with one-row and one-column remainders
    /// and three k-slabs, the last holding one element.
    /// </summary>
    public static new TheoryData<bool, bool, int, int, int> GemmShapes() =>
        WithTranspositions([[1, 1, 1], [7, 5, 3], [33, 17, 65], [65, 129, 33]]);

    /// <summary>The (alpha, beta) variants on the ragged shape only.</summary>
    public static new TheoryData<bool, bool, int, int, int, float, float> GemmScalings() =>
        WithScalings([[33, 17, 65]]);

    /// <summary>
    /// Two points (the degenerate D̃ = [0 1; 1 0]/√2), and p = 128 (eight 16-row tiles) with
    /// m below and above l.
    /// </summary>
    public static new TheoryData<int, int, int> MatchShapes() => new()
    {
        { 2, 2, 10 },
        { 128, 2, 10 },
        { 128, 16, 3 },
    };}

/// <summary>One ILGPU CPU-accelerator backend shared by the tests of a collection.</summary>
/// <remarks>
/// Tests of one collection run one after another, so sharing is safe; each test still uploads
/// its own buffers, and the backend keeps only scratch memory between calls.
/// </remarks>
public sealed class IlgpuCpuFixture : IDisposable
{
    /// <summary>The shared backend.</summary>
    public GpuBackend Backend { get; } = GpuBackend.Create("ilgpu-cpu");

    /// <summary>Frees the accelerator and its threads.</summary>
    public void Dispose() => Backend.Dispose();
}

/// <summary>The test classes that share one <see cref="IlgpuCpuFixture"/>.</summary>
/// <remarks>
/// The collection runs alone, after the parallel ones: the emulator's 256 threads per group
/// meet at every barrier, and on a 2-core machine busy with other tests each rendezvous
/// stretched from milliseconds to a large fraction of a second (one test went from 3 s to 99 s).
/// </remarks>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class IlgpuCpuCollection : ICollectionFixture<IlgpuCpuFixture>
{
    /// <summary>The collection name.</summary>
    public const string Name = "ILGPU CPU accelerator";
}

/// <summary>
/// The GPU backend's Gram and fused plain-distance matching losses, on ILGPU's CPU accelerator,
/// against the oracle on near-converged, far-from-origin batches.
/// </summary>
[Collection(IlgpuCpuCollection.Name)]
public sealed class IlgpuCpuMatchLossAccuracyTests(IlgpuCpuFixture fixture) : MatchLossAccuracyTests
{
    /// <inheritdoc/>
    protected override IBackend CreateBackend() => fixture.Backend;

    /// <inheritdoc/>
    protected override bool OwnsBackend => false;

    /// <summary>
    /// The harness's small cases; instead of its p = 129 and 130×(256 + 100) ones, which take
    /// minutes of emulated barriers, p = 70 (five 16-row tiles, the last ragged) with
    /// w = m + l = 37 (three 16-column Gram tiles) near convergence.
    /// </summary>
    public static new TheoryData<int, int, int, bool> Cases() => new()
    {
        { 3, 3, 2, false },
        { 37, 11, 5, false },
        { 37, 11, 5, true },
        { 70, 20, 17, true },
    };
}
