using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using Mmae.Engine.IO;
using Mmae.Tests.Train;
using Xunit;

namespace Mmae.Tests.Engine;

public sealed class SafeTensorsTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Save_ThenRead_RoundTripsFloatsIntsAndMetadata()
    {
        var rng = new Random(3);
        float[] w = Enumerable.Range(0, 12).Select(_ => (float)rng.NextGaussian()).ToArray();
        float[] b = [float.Epsilon, -0f, float.MaxValue];
        int[] order = [2, 0, 1, int.MaxValue, -5];
        string path = _temp.File("a.safetensors");

        SafeTensors.Save(path, [("layer.weight", w, [3, 4]), ("layer.bias", b, [3])],
            new Dictionary<string, string> { ["k"] = "v \"quoted\" ü" }, [("order", order, [5])]);
        SafeTensorsFile file = SafeTensors.Read(path);

        Assert.Equal(Bits(w), Bits(file.Floats["layer.weight"].Data));
        Assert.Equal([3, 4], file.Floats["layer.weight"].Shape);
        Assert.Equal(Bits(b), Bits(file.Floats["layer.bias"].Data));
        Assert.Equal(order, file.Ints["order"].Data);
        Assert.Equal("v \"quoted\" ü", file.Metadata["k"]);
        Assert.Equal([path], Directory.GetFiles(_temp.Path));
    }

    // The layout Python's safetensors expects: u64 header length (here a multiple of 8, so the
    // data is aligned), a JSON header whose ranges tile the data section in order, then the
    // little-endian values.
    [Fact]
    public void Save_Layout_IsTheSafetensorsSpecification()
    {
        string path = _temp.File("b.safetensors");
        SafeTensors.Save(path, [("x", [1f, -2f], [2]), ("y", [0.5f], [1, 1])],
            new Dictionary<string, string>());

        byte[] bytes = File.ReadAllBytes(path);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, n % 8);
        JsonObject header = JsonNode.Parse(bytes.AsSpan(8, (int)n))!.AsObject();
        Assert.Equal("F32", header["x"]!["dtype"]!.GetValue<string>());
        Assert.Equal("[0,8]", header["x"]!["data_offsets"]!.ToJsonString());
        Assert.Equal("[8,12]", header["y"]!["data_offsets"]!.ToJsonString());
        Assert.Equal("[1,1]", header["y"]!["shape"]!.ToJsonString());
        Assert.Equal(8 + (int)n + 12, bytes.Length);
        Assert.Equal(-2f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(8 + (int)n + 4)));
    }

    [Fact]
    public void Read_HeaderLengthBeyondFile_ThrowsBeforeAllocating()
    {
        byte[] bytes = Build("""{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", new byte[4]);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1UL << 40);
        string path = Write("c.safetensors", bytes);

        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<CheckpointFormatException>(() => SafeTensors.Read(path));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
        Assert.Contains("header length 1099511627776 does not fit the file", ex.Message);
    }

    // Two names over the same bytes would let a small file claim many copies of its data.
    [Fact]
    public void Read_OverlappingRanges_Throws()
    {
        string path = Write("d.safetensors", Build(
            """
            {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
             "b": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}
            """,
            new byte[8]));

        var ex = Assert.Throws<CheckpointFormatException>(() => SafeTensors.Read(path));
        Assert.Contains("without gaps or overlaps", ex.Message);
    }

    [Theory]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", "starts at data byte 4")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", "cover 4 data bytes, the file has 8")]
    [InlineData("""{"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}""", "dtype F16; supported: F32")]
    [InlineData("""{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", "needs 12 bytes")]
    [InlineData("""{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", "not a whole number")]
    [InlineData("""{"a":{"dtype":"F32","shape":[65536,65536,65536],"data_offsets":[0,8]}}""", "needs 112589990684262")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{}}""", "names 'a' twice")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2]}}""", "needs dtype")]
    [InlineData("""{"__metadata__":{"k":1}}""", "metadata 'k' is not a string")]
    [InlineData("""[1,2]""", "expected an object")]
    [InlineData("""{"a":""", "not valid JSON")]
    public void Read_MalformedHeader_ThrowsNamingTheProblem(string header, string expected)
    {
        string path = Write("e.safetensors", Build(header, new byte[8]));

        var ex = Assert.Throws<CheckpointFormatException>(() => SafeTensors.Read(path));
        Assert.StartsWith(path, ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Read_MissingFile_ThrowsFileNotFound()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => SafeTensors.Read(_temp.File("none.safetensors")));
        Assert.Contains("none.safetensors", ex.Message);
    }

    // A save that fails at any point leaves the previous file as it was, removes its temporary
    // file, and says so in one line that names the file.
    [Theory]
    [InlineData(FaultPoint.Create, 0)]
    [InlineData(FaultPoint.Write, 0)]
    [InlineData(FaultPoint.Write, 5)]
    [InlineData(FaultPoint.Write, 40)]
    [InlineData(FaultPoint.Write, 200)]
    [InlineData(FaultPoint.Flush, 0)]
    [InlineData(FaultPoint.Replace, 0)]
    public void Save_FailsPartWay_PreviousFileIntact(FaultPoint point, long afterBytes)
    {
        string path = _temp.File("f.safetensors");
        float[] old = Enumerable.Range(0, 60).Select(i => i * 0.5f).ToArray();
        SafeTensors.Save(path, [("w", old, [60])], new Dictionary<string, string> { ["v"] = "1" });
        byte[] before = File.ReadAllBytes(path);
        var fs = new FaultyFileSystem { FailOnSave = 1, Point = point, FailAfterBytes = afterBytes };

        var ex = Assert.Throws<IOException>(() => SafeTensors.Save(path, [("w", new float[60], [60])],
            new Dictionary<string, string> { ["v"] = "2" }, fileSystem: fs));

        Assert.StartsWith(path, ex.Message);
        Assert.Contains("injected", ex.Message);
        Assert.Contains("the previous file is unchanged", ex.Message);
        Assert.Single(ex.Message.Split('\n'));
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal([path], Directory.GetFiles(_temp.Path));
        Assert.Equal("1", SafeTensors.Read(path).Metadata["v"]);
    }

    [Fact]
    public void Save_FirstSaveFails_LeavesNothing()
    {
        string path = _temp.File("g.safetensors");
        var fs = new FaultyFileSystem { FailOnSave = 1, Point = FaultPoint.Write, FailAfterBytes = 3 };

        var ex = Assert.Throws<IOException>(() =>
            SafeTensors.Save(path, [("w", [1f], [1])], new Dictionary<string, string>(), fileSystem: fs));

        Assert.Contains("nothing was written", ex.Message);
        Assert.Empty(Directory.GetFiles(_temp.Path));
    }

    [Fact]
    public void Save_ShapeDisagreesWithData_ThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(() => SafeTensors.Save(_temp.File("h.safetensors"),
            [("w", new float[5], [2, 3])], new Dictionary<string, string>()));
        Assert.Contains("'w' has 5 values but shape (2, 3)", ex.Message);
    }

    private static int[] Bits(float[] x) => x.Select(BitConverter.SingleToInt32Bits).ToArray();

    private string Write(string name, byte[] bytes)
    {
        string path = _temp.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>A safetensors file with the given header text and data section.</summary>
    internal static byte[] Build(string header, byte[] data)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        byte[] bytes = new byte[8 + json.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + json.Length);
        return bytes;
    }
}
