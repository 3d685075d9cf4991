namespace Mmae.Kernels.Cpu;

// Work is cut into chunks whose boundaries depend only on the problem size, never on the
// thread count, so that every reduction adds its partial sums in the same order on any machine.
internal static class Parallelism
{
    private static readonly Dictionary<int, WorkerPool> s_pools = [];

    /// <summary>Runs body(i) for i in [0, count) on up to <paramref name="threads"/> threads.</summary>
    public static void For(int count, int threads, Action<int> body)
    {
        if (count <= 1 || threads <= 1)
        {
            for (int i = 0; i < count; i++)
            {
                body(i);
            }

            return;
        }

        Pool(threads).For(count, body);
    }

    /// <summary>Runs body(start, end) over [0, length) in chunks of chunkSize.</summary>
    public static void ForChunks(int length, int chunkSize, int threads, Action<int, int> body)
    {
        int chunks = (length + chunkSize - 1) / chunkSize;
        For(chunks, threads, ch => body(ch * chunkSize, Math.Min(length, (ch + 1) * chunkSize)));
    }

    private static WorkerPool Pool(int threads)
    {
        lock (s_pools)
        {
            if (!s_pools.TryGetValue(threads, out WorkerPool? pool))
            {
                pool = new WorkerPool(threads);
                s_pools[threads] = pool;
            }

            return pool;
        }
    }
}

/// <summary>
/// A fork-join pool of threads − 1 dedicated workers plus the calling thread. Kernels call it a
/// few hundred times per training step, so it avoids what Parallel.For pays per call (task
/// objects, partitioner state, thread-pool wake-ups): the workers wait on one semaphore and
/// claim indices with an interlocked counter.
/// </summary>
/// <remarks>
/// One loop runs at a time. A loop started while another is running (from another thread, or
/// from inside a loop body) runs on its calling thread alone; it gives the same result, since
/// the result never depends on which thread ran an index.
/// </remarks>
internal sealed class WorkerPool
{
    [ThreadStatic]
    private static bool t_insideLoop;

    private readonly object _gate = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly int _workers;
    private Action<int>? _body;
    private int _count;
    private int _next;
    private int _running;
    private Exception? _failure;

    public WorkerPool(int threads)
    {
        _workers = threads - 1;
        for (int w = 0; w < _workers; w++)
        {
            var thread = new Thread(WorkerLoop) { IsBackground = true, Name = $"mmae-cpu-{w + 1}" };
            thread.Start();
        }
    }

    public void For(int count, Action<int> body)
    {
        if (t_insideLoop || !Monitor.TryEnter(_gate))
        {
            RunSerially(count, body);
            return;
        }

        try
        {
            _body = body;
            _count = count;
            _next = 0;
            _failure = null;
            Volatile.Write(ref _running, _workers);
            _wake.Release(_workers);
            ClaimAndRun();

            // The workers finish their last index and check in; spinning is cheap here because
            // the wait is at most one index long.
            var spin = default(SpinWait);
            while (Volatile.Read(ref _running) != 0)
            {
                spin.SpinOnce(sleep1Threshold: -1);
            }

            _body = null;
            if (_failure is { } failure)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            }
        }
        finally
        {
            Monitor.Exit(_gate);
        }
    }

    private static void RunSerially(int count, Action<int> body)
    {
        for (int i = 0; i < count; i++)
        {
            body(i);
        }
    }

    private void ClaimAndRun()
    {
        t_insideLoop = true;
        try
        {
            Action<int> body = _body!;
            int i;
            while ((i = Interlocked.Increment(ref _next) - 1) < _count)
            {
                body(i);
            }
        }
        catch (Exception ex)
        {
            Interlocked.CompareExchange(ref _failure, ex, null);

            // Let the other threads stop at their next claim.
            Volatile.Write(ref _next, int.MaxValue / 2);
        }
        finally
        {
            t_insideLoop = false;
        }
    }

    private void WorkerLoop()
    {
        while (true)
        {
            _wake.Wait();
            ClaimAndRun();
            Interlocked.Decrement(ref _running);
        }
    }
}
