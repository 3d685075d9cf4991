using System.Buffers.Binary;
using System.Text;
using Mmae.Train.Data;
using Mmae.Train.Output;
using Xunit;

namespace Mmae.Tests.Train;

public sealed class ReferenceFileTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Read_Float64Npy_ReturnsRowsAsFloat()
    {
        string path = _temp.File("r.npy");
        WriteFloat64Npy(path, [0.5, -1.25, 3, 4, 1e-3, 6], 3, 2);

        (float[] rows, int dim) = ReferenceFile.Read(path, 3);

        Assert.Equal(2, dim);
        Assert.Equal(new[] { 0.5f, -1.25f, 3f, 4f, 1e-3f, 6f }, rows);
    }

    [Fact]
    public void Read_CsvWithHeader_ReturnsRows()
    {
        string path = _temp.File("r.csv");
        File.WriteAllText(path, "x,y\r\n1.5,2\r\n-3e-2, 4\r\n\r\n");

        (float[] rows, int dim) = ReferenceFile.Read(path, 2);

        Assert.Equal(2, dim);
        Assert.Equal(new[] { 1.5f, 2f, -0.03f, 4f }, rows);
    }

    [Fact]
    public void Read_NpyRowCountDiffers_NamesFileAndBothCounts()
    {
        string path = _temp.File("short.npy");
        Npy.Write(path, new float[9 * 2], 9, 2);

        var ex = Assert.Throws<DataFormatException>(() => ReferenceFile.Read(path, 10));

        Assert.StartsWith(path + ":", ex.Message);
        Assert.Contains("9 rows for 10 samples", ex.Message);
    }

    [Fact]
    public void Read_NpyWithNaN_NamesRowAndColumn()
    {
        string path = _temp.File("nan.npy");
        double[] values = [1, 2, 3, 4, 5, double.NaN, 7, 8];
        WriteFloat64Npy(path, values, 4, 2);

        var ex = Assert.Throws<DataFormatException>(() => ReferenceFile.Read(path, 4));

        Assert.Equal($"{path}: row 2, column 1 is NaN; reference values must be finite", ex.Message);
    }

    [Fact]
    public void Read_NpyFloat64TooLargeForFloat32_SaysSo()
    {
        string path = _temp.File("big.npy");
        WriteFloat64Npy(path, [1, 1e300], 1, 2);

        var ex = Assert.Throws<DataFormatException>(() => ReferenceFile.Read(path, 1));

        Assert.Contains("row 0, column 1", ex.Message);
        Assert.Contains("too large for float32", ex.Message);
    }

    [Fact]
    public void Read_OneDimensionalNpy_AsksForTwoDimensions()
    {
        string path = _temp.File("flat.npy");
        Npy.Write(path, new float[5], 5);

        var ex = Assert.Throws<DataFormatException>(() => ReferenceFile.Read(path, 5));

        Assert.Contains("2-D array", ex.Message);
    }

    [Theory]
    [InlineData("1,2\n3,4,5\n6,7\n", "line 2 (row 1) has 3 values, expected 2 like line 1")]
    [InlineData("a,b\n1,2\n3,inf\n5,6\n", "line 3 (row 1), column 1 is Infinity")]
    [InlineData("1,2\n3,nan\n5,6\n", "line 2 (row 1), column 1 is NaN")]
    [InlineData("1,2\n3,abc\n5,6\n", "line 2 (row 1), column 1: 'abc' is not a number")]
    [InlineData("1,2\n\n3,4\n", "line 2 (row 1) is empty")]
    [InlineData("1,2\n3,4\n5,6\n7,8\n", "reference has 4 rows, expected 3")]
    public void Read_BadCsv_NamesFileRowAndProblem(string text, string problem)
    {
        string path = _temp.File("bad.csv");
        File.WriteAllText(path, text);

        var ex = Assert.Throws<DataFormatException>(() => ReferenceFile.Read(path, 3));

        Assert.StartsWith(path + ": ", ex.Message);
        Assert.Contains(problem, ex.Message);
        Assert.DoesNotContain("\n", ex.Message);
    }

    [Fact]
    public void Read_OtherExtension_NamesSupportedTypes()
    {
        string path = _temp.File("emb.txt");
        File.WriteAllText(path, "1 2\n");

        var ex = Assert.Throws<DataFormatException>(() => ReferenceFile.Read(path, 1));

        Assert.Contains(".npy", ex.Message);
        Assert.Contains(".csv", ex.Message);
    }

    [Fact]
    public void Read_MissingFile_NamesPath()
    {
        string path = _temp.File("nowhere.csv");

        var ex = Assert.Throws<FileNotFoundException>(() => ReferenceFile.Read(path, 1));

        Assert.Contains(path, ex.Message);
    }

    // A version 1.0 '<f8' C-order .npy, the layout numpy.save writes for float64.
    internal static void WriteFloat64Npy(string path, double[] values, int rows, int cols)
    {
        string dict = $"{{'descr': '<f8', 'fortran_order': False, 'shape': ({rows}, {cols}), }}";
        int total = 10 + dict.Length + 1;
        int padded = (total + 63) / 64 * 64;
        string header = dict + new string(' ', padded - total) + "\n";
        using var stream = File.Create(path);
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        Span<byte> length = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)header.Length);
        stream.Write(length);
        stream.Write(Encoding.Latin1.GetBytes(header));
        Span<byte> value = stackalloc byte[8];
        foreach (double v in values)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(value, v);
            stream.Write(value);
        }
    }
}
