using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Mmae.Train.Embeddings;

/// <summary>Dot products and distances between float rows, the inner loops of the
/// neighbour searches.</summary>
internal static class RowMath
{
    /// <summary>Σ_j (a[j] − b[j])², summed in T over two sets of SIMD lanes.</summary>
    /// <remarks>Every term is non-negative, so float sums lose no more than a few ulps per
    /// lane; the neighbour searches need ranks, not the last digit. The metrics use double.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T SquaredDistance<T>(ReadOnlySpan<T> a, ReadOnlySpan<T> b)
        where T : unmanaged, INumber<T>
    {
        ReadOnlySpan<Vector<T>> av = MemoryMarshal.Cast<T, Vector<T>>(a);
        ReadOnlySpan<Vector<T>> bv = MemoryMarshal.Cast<T, Vector<T>>(b);
        Vector<T> acc0 = Vector<T>.Zero;
        Vector<T> acc1 = Vector<T>.Zero;
        int k = 0;
        for (; k + 1 < av.Length; k += 2)
        {
            Vector<T> d0 = av[k] - bv[k];
            Vector<T> d1 = av[k + 1] - bv[k + 1];
            acc0 += d0 * d0;
            acc1 += d1 * d1;
        }

        if (k < av.Length)
        {
            Vector<T> d0 = av[k] - bv[k];
            acc0 += d0 * d0;
        }

        T sum = Vector.Sum(acc0 + acc1);
        for (int j = av.Length * Vector<T>.Count; j < a.Length; j++)
        {
            T diff = a[j] - b[j];
            sum += diff * diff;
        }

        return sum;
    }

    /// <summary>Σ_j a[j] b[j], summed in float over SIMD lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        ReadOnlySpan<Vector<float>> av = MemoryMarshal.Cast<float, Vector<float>>(a);
        ReadOnlySpan<Vector<float>> bv = MemoryMarshal.Cast<float, Vector<float>>(b);
        Vector<float> acc = Vector<float>.Zero;
        for (int k = 0; k < av.Length; k++)
        {
            acc += av[k] * bv[k];
        }

        float sum = Vector.Sum(acc);
        for (int j = av.Length * Vector<float>.Count; j < a.Length; j++)
        {
            sum += a[j] * b[j];
        }

        return sum;
    }

    /// <summary>A 64-bit mix of the bits of <paramref name="x"/> (the SplitMix64 finaliser):
    /// a counter-based random number, so each (seed, step, item) gets its own value whatever
    /// thread computes it.</summary>
    public static ulong Mix(ulong x)
    {
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    /// <summary>Uniform in [0, 1) from the mixed bits of <paramref name="x"/>.</summary>
    public static double UnitInterval(ulong x) => (Mix(x) >> 11) * (1.0 / (1UL << 53));

    /// <summary>The options for a parallel loop on at most <paramref name="threads"/>
    /// threads; 0 means every core.</summary>
    public static ParallelOptions Parallelism(int threads) => new()
    {
        MaxDegreeOfParallelism = threads > 0 ? threads : Environment.ProcessorCount,
    };
}
