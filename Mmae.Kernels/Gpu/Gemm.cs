using ILGPU;
using ILGPU.Runtime;

namespace Mmae.Kernels.Gpu;

// C = alpha·op(A)·op(B) + beta·C. op(A): (m, k), op(B): (k, n), C: (m, n), all row-major.
// A is stored (m, k), or (k, m) when transA; B is stored (k, n), or (n, k) when transB.
// Tiling: a group of 256 threads owns a 64×64 block of C; each thread owns a 4×4 sub-block at
// rows ty + 16·r and columns tx + 16·c (strided, so neighbouring threads read neighbouring
// shared words). K advances in slabs of 16: the group stages a 64×16 slab of op(A) and a
// 16×64 slab of op(B) in shared memory, each thread loading 4 + 4 elements. The load pattern
// follows the storage order of each transpose case, so global reads are coalesced in all
// four; shared memory always holds op(A) as [kk, i] and op(B) as [kk, j].
// Each C entry is one float sum in k order, so results are deterministic.
public sealed partial class GpuBackend
{
    private const int GemmBlock = 64;
    private const int GemmSlab = 16;
    private const int GemmSlabElements = GemmBlock * GemmSlab;

    private Action<
        AcceleratorStream,
        KernelConfig,
        int,
        int,
        int,
        int,
        int,
        float,
        ArrayView<float>,
        ArrayView<float>,
        float,
        ArrayView<float>> _gemm = null!;

    /// <inheritdoc/>
    /// <remarks>Float32 throughout (no tensor-core TF32 path); one float sum per entry of C in k
    /// order, so repeated runs agree bit for bit.</remarks>
    public void Gemm(
        bool transA,
        bool transB,
        int m,
        int n,
        int k,
        float alpha,
        DeviceBuffer a,
        DeviceBuffer b,
        float beta,
        DeviceBuffer c)
    {
        if (m == 0 || n == 0)
        {
            return;
        }

        var config = Groups(Ceil(n, GemmBlock), Ceil(m, GemmBlock));
        _gemm(_stream, config, transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, V(a), V(b), beta, V(c));
    }

    private static GpuKernel[] GemmKernels => [Define(GemmKernel, static b => ref b._gemm)];

    internal static void GemmKernel(
        int transA,
        int transB,
        int m,
        int n,
        int k,
        float alpha,
        ArrayView<float> a,
        ArrayView<float> b,
        float beta,
        ArrayView<float> c)
    {
        var sa = SharedMemory.Allocate<float>(GemmSlabElements);
        var sb = SharedMemory.Allocate<float>(GemmSlabElements);
        var acc = LocalMemory.Allocate<float>(16);
        int t = Group.IdxX;
        int tx = t % Tile;
        int ty = t / Tile;
        int i0 = Grid.IdxY * GemmBlock;
        int j0 = Grid.IdxX * GemmBlock;
        for (int q = 0; q < 16; q++)
        {
            acc[q] = 0f;
        }

        for (int k0 = 0; k0 < k; k0 += GemmSlab)
        {
            for (int l = 0; l < 4; l++)
            {
                int idx = t + l * GroupSize;

                // op(A)[i0 + ii, k0 + kk] into sa[kk·64 + ii].
                int ii = transA != 0 ? idx % GemmBlock : idx / GemmSlab;
                int ka = transA != 0 ? idx / GemmBlock : idx % GemmSlab;
                int gi = i0 + ii, gk = k0 + ka;
                float av = 0f;
                if (gi < m && gk < k)
                {
                    av = transA != 0 ? a[gk * m + gi] : a[gi * k + gk];
                }

                sa[ka * GemmBlock + ii] = av;

                // op(B)[k0 + kk, j0 + jj] into sb[kk·64 + jj].
                int jj = transB != 0 ? idx / GemmSlab : idx % GemmBlock;
                int kb = transB != 0 ? idx % GemmSlab : idx / GemmBlock;
                int gj = j0 + jj, gkb = k0 + kb;
                float bv = 0f;
                if (gj < n && gkb < k)
                {
                    bv = transB != 0 ? b[gj * k + gkb] : b[gkb * n + gj];
                }

                sb[kb * GemmBlock + jj] = bv;
            }

            Group.Barrier();
            for (int kk = 0; kk < GemmSlab; kk++)
            {
                for (int r = 0; r < 4; r++)
                {
                    float ar = sa[kk * GemmBlock + ty + Tile * r];
                    for (int q = 0; q < 4; q++)
                    {
                        acc[r * 4 + q] += ar * sb[kk * GemmBlock + tx + Tile * q];
                    }
                }
            }

            Group.Barrier();
        }

        for (int r = 0; r < 4; r++)
        {
            int i = i0 + ty + Tile * r;
            for (int q = 0; q < 4; q++)
            {
                int j = j0 + tx + Tile * q;
                if (i < m && j < n)
                {
                    // beta = 0 ignores C entirely, so NaN in an output buffer does not leak.
                    float old = beta != 0f ? beta * c[i * n + j] : 0f;
                    c[i * n + j] = alpha * acc[r * 4 + q] + old;
                }
            }
        }
    }
}
