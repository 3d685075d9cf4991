using ILGPU;
using ILGPU.Runtime;

namespace Mmae.Kernels.Gpu;

// Sums over n elements in two deterministic stages, no atomics:
//   1. G = min(⌈n/256⌉, ReduceGroups) groups; thread t of group g adds elements
//      g·256 + t, g·256 + t + 256·G, ... in float64, then the group folds its 256 values
//      in a fixed binary tree into partials[g].
//   2. One group folds partials[0..G) the same way into result[slot].
// G depends only on n, so the summation order, and the rounding, is the same on every run.
public sealed partial class GpuBackend
{
    private const int ReduceGroups = 1024;

    // Which per-element term stage 1 sums: (a − b)², a², or a·b.
    private const int TermSquaredDifference = 0;
    private const int TermSquare = 1;
    private const int TermProduct = 2;

    private Action<KernelConfig, int, ArrayView<float>, ArrayView<float>, int, ArrayView<double>>
        _partials = null!;
    private Action<KernelConfig, ArrayView<double>, int, ArrayView<double>, int> _finishSum = null!;

    /// <summary>Queues result[slot] = Σ term(a_i, b_i) over n elements (see the header).</summary>
    private void Sum(int term, ArrayView<float> a, ArrayView<float> b, int n, ArrayView<double> result, int slot)
    {
        int groups = Math.Clamp(Ceil(n, GroupSize), 1, ReduceGroups);
        ArrayView<double> partials = Scratch("reduce", groups);
        _partials(Groups(groups), term, a, b, n, partials);
        _finishSum(Groups(1), partials, groups, result, slot);
    }

    private void RegisterReduction()
    {
        Register(nameof(PartialSumsKernel), () =>
            _partials = _accelerator.LoadStreamKernel<
                int, ArrayView<float>, ArrayView<float>, int, ArrayView<double>>(PartialSumsKernel));
        Register(nameof(FinishSumKernel), () =>
            _finishSum = _accelerator.LoadStreamKernel<
                ArrayView<double>, int, ArrayView<double>, int>(FinishSumKernel));
    }

    /// <summary>
    /// The sum of <paramref name="value"/> over the group, folded in a fixed binary tree in
    /// <paramref name="shared"/> (GroupSize elements); every thread gets the total.
    /// </summary>
    internal static double GroupSum(double value, ArrayView<double> shared)
    {
        int t = Group.IdxX;
        shared[t] = value;
        Group.Barrier();
        for (int stride = GroupSize / 2; stride > 0; stride >>= 1)
        {
            if (t < stride)
            {
                shared[t] += shared[t + stride];
            }

            Group.Barrier();
        }

        double total = shared[0];
        Group.Barrier();
        return total;
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
            else
            {
                sum += x * b[i];
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
