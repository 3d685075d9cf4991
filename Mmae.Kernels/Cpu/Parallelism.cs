namespace Mmae.Kernels.Cpu;

// Work is cut into chunks whose boundaries depend only on the problem size, never on the
// thread count, so that every reduction adds its partial sums in the same order on any machine.
internal static class Parallelism
{
    private static readonly Dictionary<int, ParallelOptions> s_options = new();

    public static ParallelOptions Options(int threads)
    {
        lock (s_options)
        {
            if (!s_options.TryGetValue(threads, out ParallelOptions? options))
            {
                options = new ParallelOptions { MaxDegreeOfParallelism = threads };
                s_options[threads] = options;
            }

            return options;
        }
    }

    /// <summary>Runs body(start, end) over [0, length) in chunks of chunkSize.</summary>
    public static void ForChunks(int length, int chunkSize, int threads, Action<int, int> body)
    {
        int chunks = (length + chunkSize - 1) / chunkSize;
        if (chunks <= 1 || threads == 1)
        {
            for (int ch = 0; ch < chunks; ch++)
            {
                body(ch * chunkSize, Math.Min(length, (ch + 1) * chunkSize));
            }

            return;
        }

        Parallel.For(0, chunks, Options(threads), ch =>
            body(ch * chunkSize, Math.Min(length, (ch + 1) * chunkSize)));
    }
}
