using Mmae.Kernels.Cpu;
using Xunit;

namespace Mmae.Tests.Kernels;

/// <summary>The CPU backend's fork-join pool: every index once, failures, nesting, contention.</summary>
public class WorkerPoolTests
{
    [Theory]
    [InlineData(2, 1)]
    [InlineData(2, 1000)]
    [InlineData(3, 7)]
    [InlineData(4, 257)]
    public void For_EveryIndexRunsExactlyOnce(int threads, int count)
    {
        var pool = new WorkerPool(threads);
        var hits = new int[count];
        for (int round = 0; round < 20; round++)
        {
            pool.For(count, i => Interlocked.Increment(ref hits[i]));
        }

        Assert.All(hits, h => Assert.Equal(20, h));
    }

    [Fact]
    public void For_BodyThrows_CallerGetsTheExceptionAndThePoolStillWorks()
    {
        var pool = new WorkerPool(2);
        var ex = Assert.Throws<InvalidOperationException>(() => pool.For(100, i =>
        {
            if (i == 37)
            {
                throw new InvalidOperationException("index 37");
            }
        }));
        Assert.Equal("index 37", ex.Message);

        int sum = 0;
        pool.For(10, i => Interlocked.Add(ref sum, i));
        Assert.Equal(45, sum);
    }

    [Fact]
    public void For_CalledFromInsideALoop_RunsTheInnerLoopToo()
    {
        var pool = new WorkerPool(2);
        var hits = new int[8 * 9];
        pool.For(8, i => pool.For(9, j => Interlocked.Increment(ref hits[i * 9 + j])));
        Assert.All(hits, h => Assert.Equal(1, h));
    }

    [Fact]
    public void For_CalledFromSeveralThreadsAtOnce_EveryLoopCompletes()
    {
        var pool = new WorkerPool(2);
        var totals = new long[4];
        Parallel.For(0, 4, t =>
        {
            for (int round = 0; round < 50; round++)
            {
                pool.For(64, i => Interlocked.Add(ref totals[t], i));
            }
        });
        Assert.All(totals, total => Assert.Equal(50L * (63 * 64 / 2), total));
    }
}
