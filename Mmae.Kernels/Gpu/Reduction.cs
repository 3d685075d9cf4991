using ILGPU;
using ILGPU.Runtime;

namespace Mmae.Kernels.Gpu;

// Sums over n elements in two deterministic stages, no atomics:
//   1. G = min(⌈n/256⌉, limit) groups; thread t of group g adds elements
//      g·256 + t, g·256 + t + 256·G, ... in float64, then the group folds its 256 values
//      in a fixed order (FoldRows) into partials[g].
//   2. One group folds partials[0..G) the same way into result[slot].
// G depends only on n and the device kind, so the summation order, and the rounding, is the
// same on every run. The limit is 1024 groups on a GPU (enough to fill it) and 2 on ILGPU's CPU
// accelerator, which runs groups one after another anyway; there, every n > 512 also exercises
// the strided loop that a GPU reaches only past 256·1024 elements.
public sealed partial class GpuBackend
{

    // Which per-element term stage 1 sums: (a − b)², a², a·b, or a VAE term (Vae.cs).
    private const int TermSquaredDifference = 0;
    private const int TermSquare = 1;
    private const int TermProduct = 2;

    private Action<
        AcceleratorStream,
        KernelConfig,
        int,
        ArrayView<float>,
        ArrayView<float>,
        int,
        ArrayView<double>> _partials = null!;
    private Action<AcceleratorStream, KernelConfig, ArrayView<double>, int, ArrayView<double>, int>
        _finishSum = null!;

    /// <summary>Queues result[slot] = Σ term(a_i, b_i) over n elements (see the header).</summary>
    private void Sum(
        int term,
        ArrayView<float> a,
        ArrayView<float> b,
        int n,
        ArrayView<double> result,
        int slot)
    {
        int groups = Math.Clamp(Ceil(n, GroupSize), 1, _reduceGroupLimit);
        ArrayView<double> partials = Scratch("reduce", groups);
        _partials(_stream, Groups(groups), term, a, b, n, partials);
        _finishSum(_stream, Groups(1), partials, groups, result, slot);
    }

    private static int ReduceGroupLimit(Accelerator accelerator) =>
        accelerator.AcceleratorType == AcceleratorType.CPU ? 2 : 1024;

    private static GpuKernel[] ReductionKernels =>
    [
        Define(PartialSumsKernel, static b => ref b._partials),
        Define(FinishSumKernel, static b => ref b._finishSum),
    ];

    /// <summary>
    /// The sum of <paramref name="value"/> over the group (see <see cref="FoldRows"/>), using
    /// <paramref name="shared"/> (GroupSize elements); every thread gets the total.
    /// </summary>
    internal static double GroupSum(double value, ArrayView<double> shared)
    {
        shared[Group.IdxX] = value;
        FoldRows(shared, 1);
        double total = shared[0];

        // The caller may reuse shared right away; nobody may overwrite it before all have read.
        Group.Barrier();
        return total;
    }

    /// <summary>
    /// Sums <paramref name="rows"/> rows of GroupSize values at once: row v lies at
    /// shared[v·GroupSize ..], thread t having written column t of every row. Afterwards
    /// shared[v·GroupSize] holds row v's sum, visible to every thread. Every thread of the
    /// group must call it.
    /// </summary>
    /// <remarks>
    /// Two fixed steps instead of a log₂(256) = 8-level tree: threads 0..15 each add the 16
    /// values t, t + 16, ... of a row (consecutive threads read consecutive words), then thread
    /// 0 adds those 16 partials in order. Three barriers, whatever the row count, where a tree
    /// needs eight per row; barriers are what a group waits on, and on ILGPU's CPU accelerator
    /// each one is a rendezvous of 256 OS threads.
    /// </remarks>
    internal static void FoldRows(ArrayView<double> shared, int rows)
    {
        int t = Group.IdxX;
        Group.Barrier();
        if (t < Tile)
        {
            for (int v = 0; v < rows; v++)
            {
                // Only thread t reads element t of the row, so writing it back is race-free.
                int row = v * GroupSize;
                double sum = 0;
                for (int q = 0; q < GroupSize / Tile; q++)
                {
                    sum += shared[row + q * Tile + t];
                }

                shared[row + t] = sum;
            }
        }

        Group.Barrier();
        if (t == 0)
        {
            for (int v = 0; v < rows; v++)
            {
                int row = v * GroupSize;
                double sum = 0;
                for (int q = 0; q < Tile; q++)
                {
                    sum += shared[row + q];
                }

                shared[row] = sum;
            }
        }

        Group.Barrier();
    }

    internal static void PartialSumsKernel(
        int term,
        ArrayView<float> a,
        ArrayView<float> b,
        int n,
        ArrayView<double> partials)
    {
        var shared = SharedMemory.Allocate<double>(GroupSize);
        double sum = 0;
        int stride = Grid.DimX * GroupSize;
        for (int i = Grid.IdxX * GroupSize + Group.IdxX; i < n; i += stride)
        {
            double x = a[i];
            if (term == TermSquaredDifference)
            {
                double d = x - b[i];
                sum += d * d;
            }
            else if (term == TermSquare)
            {
                sum += x * x;
            }
            else if (term == TermProduct)
            {
                sum += x * b[i];
            }
            else
            {
                sum += VaeTerm(term, x, b[i]);
            }
        }

        double total = GroupSum(sum, shared);
        if (Group.IdxX == 0)
        {
            partials[Grid.IdxX] = total;
        }
    }

    internal static void FinishSumKernel(
        ArrayView<double> partials,
        int count,
        ArrayView<double> result,
        int slot)
    {
        var shared = SharedMemory.Allocate<double>(GroupSize);
        double sum = 0;
        for (int i = Group.IdxX; i < count; i += GroupSize)
        {
            sum += partials[i];
        }

        double total = GroupSum(sum, shared);
        if (Group.IdxX == 0)
        {
            result[slot] = total;
        }
    }
}
