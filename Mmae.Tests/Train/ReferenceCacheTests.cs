using Mmae.Train.Cli;
using Mmae.Train.Data;
using Mmae.Train.Training;
using Xunit;

namespace Mmae.Tests.Train;

public sealed class ReferenceCacheTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void StoreThenLoad_RoundTripsAndLeavesNoTemporaryFile()
    {
        string path = Path.Combine(_temp.Path, "cache", "a.ref");
        float[] rows = [1, 2, 3, -4.5f, 5, 6];

        ReferenceCache.Store(path, "key 1", rows, 3, 2);
        var loaded = ReferenceCache.TryLoad(path, "key 1", out string? problem);

        Assert.Null(problem);
        Assert.NotNull(loaded);
        Assert.Equal(rows, loaded.Value.Rows);
        Assert.Equal(2, loaded.Value.Dim);
        Assert.Equal([path], Directory.GetFiles(Path.GetDirectoryName(path)!));
    }

    [Theory]
    [InlineData(-1, "fails its checksum")]
    [InlineData(0, "not a reference cache file")]
    [InlineData(40, "fails its checksum")]
    public void TryLoad_CorruptByte_IsRejected(int offset, string problemText)
    {
        string path = _temp.File("b.ref");
        ReferenceCache.Store(path, "key", [1, 2, 3, 4], 2, 2);
        byte[] bytes = File.ReadAllBytes(path);
        bytes[offset < 0 ? bytes.Length + offset : offset] ^= 0x5A;
        File.WriteAllBytes(path, bytes);

        var loaded = ReferenceCache.TryLoad(path, "key", out string? problem);

        Assert.Null(loaded);
        Assert.Contains(problemText, problem);
    }

    [Fact]
    public void TryLoad_TruncatedOrOtherKey_IsRejected()
    {
        string path = _temp.File("c.ref");
        ReferenceCache.Store(path, "key", [1, 2, 3, 4], 2, 2);

        Assert.Null(ReferenceCache.TryLoad(path, "other key", out string? otherKey));
        Assert.Contains("key differs", otherKey);

        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^7]);
        Assert.Null(ReferenceCache.TryLoad(path, "key", out string? truncated));
        Assert.NotNull(truncated);
    }

    [Fact]
    public void Resolve_SecondTime_ComesFromTheCache_AndACorruptEntryIsRecomputed()
    {
        Dataset data = SmallData(60, 7);
        ReferenceSpec spec = ReferenceSpec.Parse("pca:3", data.Dim);
        string cache = Path.Combine(_temp.Path, "cache");
        var log = new StringWriter();

        ResolvedReference first = spec.Resolve(data, new ReferenceParameters(), cache, 1, log);
        ResolvedReference second = spec.Resolve(data, new ReferenceParameters(), cache, 1, log);

        Assert.Equal("computed", first.Source);
        Assert.Equal("cache", second.Source);
        Assert.Equal(first.Rows, second.Rows);
        Assert.Equal(first.CachePath, second.CachePath);

        byte[] bytes = File.ReadAllBytes(first.CachePath!);
        bytes[bytes.Length / 2] ^= 0xFF;
        File.WriteAllBytes(first.CachePath!, bytes);
        ResolvedReference third = spec.Resolve(data, new ReferenceParameters(), cache, 1, log);

        Assert.Equal("computed", third.Source);
        Assert.Equal(first.Rows, third.Rows);
        Assert.Contains("fails its checksum", log.ToString());
        Assert.Equal("cache", spec.Resolve(data, new ReferenceParameters(), cache, 1, null).Source);
    }

    [Fact]
    public void Key_DependsOnDataMethodAndParameters()
    {
        Dataset a = SmallData(30, 4);
        Dataset b = SmallData(30, 5);
        var cache = new ReferenceCache(_temp.Path);
        var p = new ReferenceParameters();
        string hashA = ReferenceCache.DataHash(a);

        string baseKey = cache.PathFor("tsne", 2, ReferenceCache.Key(hashA, "tsne:2", p.Describe("tsne")));

        Assert.NotEqual(baseKey, cache.PathFor("tsne", 2,
            ReferenceCache.Key(ReferenceCache.DataHash(b), "tsne:2", p.Describe("tsne"))));
        Assert.NotEqual(baseKey, cache.PathFor("tsne", 2,
            ReferenceCache.Key(hashA, "tsne:2", (p with { Tsne = p.Tsne with { Perplexity = 20 } }).Describe("tsne"))));
        Assert.NotEqual(baseKey, cache.PathFor("tsne", 2,
            ReferenceCache.Key(hashA, "tsne:2", (p with { Tsne = p.Tsne with { Seed = 1 } }).Describe("tsne"))));
        Assert.Equal(baseKey, cache.PathFor("tsne", 2,
            ReferenceCache.Key(hashA, "tsne:2", (p with { Umap = p.Umap with { MinDist = 0.5 } }).Describe("tsne"))));
    }

    [Theory]
    [InlineData("tsne:4")]
    [InlineData("umap:1")]
    [InlineData("umap:101")]
    [InlineData("tsne:two")]
    [InlineData("isomap:2")]
    public void Parse_BadSpec_NamesTheAcceptedForms(string text)
    {
        var ex = Assert.Throws<UsageException>(() => ReferenceSpec.Parse(text, 784));

        Assert.Contains("--reference " + text, ex.Message);
    }

    [Theory]
    [InlineData(784, "from 1 to 784")]
    [InlineData(int.MaxValue, "of at least 1 (and at most the input width)")]
    public void Parse_PcaZero_StatesTheRangeItKnows(int inputDim, string range)
    {
        var ex = Assert.Throws<UsageException>(() => ReferenceSpec.Parse("pca:0", inputDim));

        Assert.Contains("pca needs a dimension " + range, ex.Message);
    }

    private static Dataset SmallData(int n, int seed)
    {
        float[] x = EmbeddingTestData.Uniform(n, 6, seed);
        return new Dataset("small", n, 6, x, new int[n]);
    }
}
