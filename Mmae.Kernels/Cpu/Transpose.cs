using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Mmae.Kernels.Cpu;

/// <summary>Register-blocked transposition for the GEMM's packing (AVX).</summary>
internal static unsafe class Transpose
{
    // dst[j·ldDst + r] = src[r·ldSrc + j] for an 8×8 block.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Block8(float* src, int ldSrc, float* dst, int ldDst)
    {
        Vector256<float> r0 = Avx.LoadVector256(src), r1 = Avx.LoadVector256(src + ldSrc);
        Vector256<float> r2 = Avx.LoadVector256(src + 2 * ldSrc), r3 = Avx.LoadVector256(src + 3 * ldSrc);
        Vector256<float> r4 = Avx.LoadVector256(src + 4 * ldSrc), r5 = Avx.LoadVector256(src + 5 * ldSrc);
        Vector256<float> r6 = Avx.LoadVector256(src + 6 * ldSrc), r7 = Avx.LoadVector256(src + 7 * ldSrc);

        // Pairs of rows interleaved, then 2×2 blocks, then the 128-bit halves.
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1);
        Vector256<float> t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5);
        Vector256<float> t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0b01_00_01_00), u1 = Avx.Shuffle(t0, t2, 0b11_10_11_10);
        Vector256<float> u2 = Avx.Shuffle(t1, t3, 0b01_00_01_00), u3 = Avx.Shuffle(t1, t3, 0b11_10_11_10);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0b01_00_01_00), u5 = Avx.Shuffle(t4, t6, 0b11_10_11_10);
        Vector256<float> u6 = Avx.Shuffle(t5, t7, 0b01_00_01_00), u7 = Avx.Shuffle(t5, t7, 0b11_10_11_10);
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + ldDst, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * ldDst, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * ldDst, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * ldDst, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * ldDst, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * ldDst, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * ldDst, Avx.Permute2x128(u3, u7, 0x31));
    }
}
