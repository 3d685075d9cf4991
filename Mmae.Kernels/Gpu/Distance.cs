using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;

namespace Mmae.Kernels.Gpu;

// p = points, dim = coordinates; x, dx: (p, dim) row-major; D, dD: (p, p).
// One thread per output element. Distances are summed from coordinate differences in float64
// (never ||a||² + ||b||² − 2⟨a, b⟩), so nearly equal points far from the origin keep their
// digits. These are the small-batch kernels; the matching losses in Distance.Gram.cs and
// Distance.Euclidean.cs never form a p×p matrix.
// The Frobenius kernels use the deterministic two-stage sums of Reduction.cs.
public sealed partial class GpuBackend
{
    private Action<AcceleratorStream, Index1D, ArrayView<float>, int, int, ArrayView<float>>
        _pairwise = null!;
    private Action<
        AcceleratorStream,
        Index1D,
        ArrayView<float>,
        ArrayView<float>,
        int,
        int,
        ArrayView<float>> _pairwiseBackward = null!;
    private Action<
        AcceleratorStream,
        Index1D,
        ArrayView<float>,
        ArrayView<float>,
        ArrayView<double>,
        ArrayView<float>> _frobeniusScale = null!;
    private Action<
        AcceleratorStream,
        Index1D,
        ArrayView<float>,
        ArrayView<float>,
        ArrayView<float>,
        ArrayView<double>,
        ArrayView<float>> _frobeniusBackward = null!;

    /// <inheritdoc/>
    public void PairwiseSquaredDistances(DeviceBuffer x, int p, int dim, DeviceBuffer d) =>
        Launch(p * p, _pairwise, V(x), p, dim, V(d));

    /// <inheritdoc/>
    public void PairwiseSquaredDistancesBackward(
        DeviceBuffer x,
        DeviceBuffer dD,
        int p,
        int dim,
        DeviceBuffer dx) =>
        Launch(p * dim, _pairwiseBackward, V(x), V(dD), p, dim, V(dx));

    /// <inheritdoc/>
    public void FrobeniusNormalize(DeviceBuffer x, DeviceBuffer y, DeviceBuffer norm)
    {
        ArrayView<double> sums = Scratch("frobenius", 1);
        Sum(TermSquare, V(x), V(x), x.Length, sums, 0);

        // Length 1 so the norm is written even for an empty x.
        Launch(Math.Max(x.Length, 1), _frobeniusScale, V(x), V(y), sums, V(norm));
    }

    /// <inheritdoc/>
    public void FrobeniusNormalizeBackward(
        DeviceBuffer y,
        DeviceBuffer dy,
        DeviceBuffer norm,
        DeviceBuffer dx)
    {
        ArrayView<double> sums = Scratch("frobenius", 1);
        Sum(TermProduct, V(dy), V(y), y.Length, sums, 0);
        Launch(dx.Length, _frobeniusBackward, V(y), V(dy), V(norm), sums, V(dx));
    }

    private static GpuKernel[] DistanceKernels =>
    [
        Define(PairwiseKernel, static b => ref b._pairwise),
        Define(PairwiseBackwardKernel, static b => ref b._pairwiseBackward),
        Define(FrobeniusScaleKernel, static b => ref b._frobeniusScale),
        Define(FrobeniusBackwardKernel, static b => ref b._frobeniusBackward),
    ];

    // D[i, j] = Σ_k (x_ik − x_jk)²
    internal static void PairwiseKernel(
        Index1D ij,
        ArrayView<float> x,
        int p,
        int dim,
        ArrayView<float> d)
    {
        int i = ij / p, j = ij % p;
        double sum = 0;
        for (int k = 0; k < dim; k++)
        {
            double diff = (double)x[i * dim + k] - x[j * dim + k];
            sum += diff * diff;
        }

        d[ij] = (float)sum;
    }

    // dx_ik = 2·Σ_j (dD_ij + dD_ji)(x_ik − x_jk)
    internal static void PairwiseBackwardKernel(
        Index1D ik,
        ArrayView<float> x,
        ArrayView<float> dD,
        int p,
        int dim,
        ArrayView<float> dx)
    {
        int i = ik / dim, k = ik % dim;
        double xi = x[ik];
        double sum = 0;
        for (int j = 0; j < p; j++)
        {
            double s = (double)dD[i * p + j] + dD[j * p + i];
            sum += s * (xi - x[j * dim + k]);
        }

        dx[ik] = (float)(2.0 * sum);
    }

    // norm = sqrt(Σx²) (thread 0 writes it); y = x / norm, or 0 when the norm is 0.
    internal static void FrobeniusScaleKernel(
        Index1D i,
        ArrayView<float> x,
        ArrayView<float> y,
        ArrayView<double> sums,
        ArrayView<float> norm)
    {
        double nrm = XMath.Sqrt(sums[0]);
        if (i == 0)
        {
            norm[0] = (float)nrm;
        }

        if (i < y.Length && i < x.Length)
        {
            double inv = nrm > 0 ? 1.0 / nrm : 0.0;
            y[i] = (float)(x[i] * inv);
        }
    }

    // dx = (dy − y·⟨dy, y⟩) / norm, and 0 when the norm is 0.
    internal static void FrobeniusBackwardKernel(
        Index1D i,
        ArrayView<float> y,
        ArrayView<float> dy,
        ArrayView<float> norm,
        ArrayView<double> sums,
        ArrayView<float> dx)
    {
        double nrm = norm[0];
        double inv = nrm > 0 ? 1.0 / nrm : 0.0;
        dx[i] = (float)((dy[i] - y[i] * sums[0]) * inv);
    }

    /// <summary>
    /// What a matching-loss forward left in scratch memory for the backward after it: the
    /// inputs it read and its kernel arguments (views of that memory).
    /// </summary>
    private readonly record struct ForwardTerms<TArgs>(
        DeviceBuffer Z,
        DeviceBuffer E,
        int P,
        int M,
        int L,
        TArgs Args)
    {
        /// <summary>Whether a backward call sees the same buffers and sizes.</summary>
        public bool Matches(DeviceBuffer z, DeviceBuffer e, int p, int m, int l) =>
            ReferenceEquals(Z, z) && ReferenceEquals(E, e) && P == p && M == m && L == l;
    }
}
