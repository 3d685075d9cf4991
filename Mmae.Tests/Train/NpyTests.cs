using System.Buffers.Binary;
using System.Text;
using Mmae.Train.Data;
using Mmae.Train.Output;
using Xunit;

namespace Mmae.Tests.Train;

public sealed class NpyTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Write_TwoDimensional_RoundTripsExactly()
    {
        float[] data = [1.5f, -2.25f, 3e-8f, float.MaxValue, -0f, 42f];
        string path = _temp.File("a.npy");

        Npy.Write(path, data, 3, 2);
        (double[] read, int[] shape) = Npy.Read(path);

        Assert.Equal([3, 2], shape);
        Assert.Equal(data.Select(v => (double)v), read);
        Assert.Equal([path], Directory.GetFiles(_temp.Path));
    }

    [Fact]
    public void Write_Header_IsNumPyVersion1AlignedTo64()
    {
        string path = _temp.File("b.npy");

        Npy.Write(path, new float[10_000 * 2], 10_000, 2);

        byte[] bytes = File.ReadAllBytes(path);
        Assert.Equal([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0],
            bytes[..8]);
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        int dataOffset = 10 + headerLength;
        Assert.Equal(0, dataOffset % 64);
        string header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        Assert.StartsWith(
            "{'descr': '<f4', 'fortran_order': False, 'shape': (10000, 2), }", header);
        Assert.EndsWith("\n", header);
        Assert.Equal(dataOffset + 10_000 * 2 * 4, bytes.Length);
    }

    [Fact]
    public void Write_OneDimensional_WritesTupleWithTrailingComma()
    {
        string path = _temp.File("c.npy");

        Npy.Write(path, [1f, 2f, 3f], 3);

        Assert.Contains("'shape': (3,), }", File.ReadAllText(path, Encoding.Latin1));
        Assert.Equal([3], Npy.Read(path).Shape);
    }

    [Fact]
    public void Write_ShapeMismatch_ThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(
            () => Npy.Write(_temp.File("d.npy"), new float[5], 2, 3));

        Assert.Contains("holds 6 elements but data has 5", ex.Message);
    }

    [Fact]
    public void Write_NegativeDimension_ThrowsArgumentException()
    {
        var ex = Assert.Throws<ArgumentException>(
            () => Npy.Write(_temp.File("e.npy"), [], -1, 0));

        Assert.Contains("negative dimension", ex.Message);
    }

    [Fact]
    public void Read_Float64File_ReturnsValues()
    {
        double[] values = [Math.PI, -1e300, 0.1];
        string path = WriteNpy("f8.npy", "{'descr': '<f8', 'fortran_order': False, "
            + "'shape': (3,), }", values.SelectMany(BitConverter.GetBytes).ToArray());

        (double[] read, int[] shape) = Npy.Read(path);

        Assert.Equal(values, read);
        Assert.Equal([3], shape);
    }

    [Theory]
    [InlineData("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }",
        "unsupported dtype '<i4'")]
    [InlineData("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }",
        "unsupported dtype '>f4'")]
    [InlineData("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }",
        "fortran_order is True")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 2), }",
        "only 1-D and 2-D")]
    [InlineData("{'descr': '<f4', 'shape': (2,), }", "lacks one of")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}",
        "unexpected header key 'x'")]
    [InlineData("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }",
        "structured dtype")]
    public void Read_UnsupportedHeader_ThrowsDataFormatException(string header, string expected)
    {
        string path = WriteNpy("bad.npy", header, new byte[8]);

        var ex = Assert.Throws<DataFormatException>(() => Npy.Read(path));

        Assert.StartsWith(path + ": ", ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Read_BadMagic_ThrowsDataFormatException()
    {
        string path = _temp.File("text.npy");
        File.WriteAllText(path, "not numpy at all");

        var ex = Assert.Throws<DataFormatException>(() => Npy.Read(path));

        Assert.Equal($"{path}: not a .npy file: expected magic \\x93NUMPY at the start",
            ex.Message);
    }

    [Theory]
    [InlineData(7, "truncated data")]
    [InlineData(9, "trailing bytes")]
    public void Read_DataSizeMismatch_ThrowsWithBothSizes(int dataBytes, string expected)
    {
        string path = WriteNpy("short.npy",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", new byte[dataBytes]);

        var ex = Assert.Throws<DataFormatException>(() => Npy.Read(path));

        Assert.StartsWith($"{path}: {expected}", ex.Message);
        Assert.Contains("needs 8 bytes", ex.Message);
        Assert.Contains($"found {dataBytes}", ex.Message);
    }

    [Fact]
    public void Read_MissingFile_ThrowsFileNotFound()
    {
        string path = _temp.File("absent.npy");

        var ex = Assert.Throws<FileNotFoundException>(() => Npy.Read(path));

        Assert.Contains(path, ex.Message);
    }

    private string WriteNpy(string name, string header, byte[] data)
    {
        string padded = header.PadRight((header.Length + 11 + 63) / 64 * 64 - 11) + "\n";
        byte[] bytes = new byte[10 + padded.Length + data.Length];
        bytes[0] = 0x93;
        "NUMPY"u8.CopyTo(bytes.AsSpan(1));
        bytes[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)padded.Length);
        Encoding.ASCII.GetBytes(padded).CopyTo(bytes, 10);
        data.CopyTo(bytes, 10 + padded.Length);
        string path = _temp.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
