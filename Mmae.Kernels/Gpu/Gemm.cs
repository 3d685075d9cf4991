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
        int t = Group.IdxX;
        int tx = t % Tile;
        int ty = t / Tile;
        int i0 = Grid.IdxY * GemmBlock;
        int j0 = Grid.IdxX * GemmBlock;

        // Sixteen named accumulators, c{r}{q} for row ty + 16r and column tx + 16q: ILGPU does
        // not unroll loops, so an indexed local array would live in (slow) local memory on the
        // GPU instead of registers.
        float c00 = 0f, c01 = 0f, c02 = 0f, c03 = 0f, c10 = 0f, c11 = 0f, c12 = 0f, c13 = 0f;
        float c20 = 0f, c21 = 0f, c22 = 0f, c23 = 0f, c30 = 0f, c31 = 0f, c32 = 0f, c33 = 0f;
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
                int ra = kk * GemmBlock + ty, rb = kk * GemmBlock + tx;
                float a0 = sa[ra], a1 = sa[ra + Tile], a2 = sa[ra + 2 * Tile], a3 = sa[ra + 3 * Tile];
                float b0 = sb[rb], b1 = sb[rb + Tile], b2 = sb[rb + 2 * Tile], b3 = sb[rb + 3 * Tile];
                c00 += a0 * b0;
                c01 += a0 * b1;
                c02 += a0 * b2;
                c03 += a0 * b3;
                c10 += a1 * b0;
                c11 += a1 * b1;
                c12 += a1 * b2;
                c13 += a1 * b3;
                c20 += a2 * b0;
                c21 += a2 * b1;
                c22 += a2 * b2;
                c23 += a2 * b3;
                c30 += a3 * b0;
                c31 += a3 * b1;
                c32 += a3 * b2;
                c33 += a3 * b3;
            }

            Group.Barrier();
        }

        var g = new GemmOutput(m, n, alpha, beta, c);
        int i = i0 + ty, j = j0 + tx;
        g.Store(i, j, c00);
        g.Store(i, j + Tile, c01);
        g.Store(i, j + 2 * Tile, c02);
        g.Store(i, j + 3 * Tile, c03);
        g.Store(i + Tile, j, c10);
        g.Store(i + Tile, j + Tile, c11);
        g.Store(i + Tile, j + 2 * Tile, c12);
        g.Store(i + Tile, j + 3 * Tile, c13);
        g.Store(i + 2 * Tile, j, c20);
        g.Store(i + 2 * Tile, j + Tile, c21);
        g.Store(i + 2 * Tile, j + 2 * Tile, c22);
        g.Store(i + 2 * Tile, j + 3 * Tile, c23);
        g.Store(i + 3 * Tile, j, c30);
        g.Store(i + 3 * Tile, j + Tile, c31);
        g.Store(i + 3 * Tile, j + 2 * Tile, c32);
        g.Store(i + 3 * Tile, j + 3 * Tile, c33);
    }

    /// <summary>C and the epilogue constants of one GEMM, for storing an accumulator.</summary>
    private readonly struct GemmOutput(int m, int n, float alpha, float beta, ArrayView<float> c)
    {
        // C[i, j] = alpha·acc + beta·C[i, j] inside C; beta = 0 ignores C entirely, so NaN in
        // an output buffer does not leak.
        public void Store(int i, int j, float acc)
        {
            if (i < m && j < n)
            {
                float old = beta != 0f ? beta * c[i * n + j] : 0f;
                c[i * n + j] = alpha * acc + old;
            }
        }
    }
}
