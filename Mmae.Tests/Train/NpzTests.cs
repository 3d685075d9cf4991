using Mmae.Train.Data;
using Xunit;
using static Mmae.Tests.Train.DataFixtures;

namespace Mmae.Tests.Train;

public sealed class NpzTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Read_EveryDtype_ReturnsStoredValues(bool compressed)
    {
        byte[] u8 = [0, 1, 200, 255];
        long[] i8 = [-5, 0, 1L << 40];
        double[] f8 = [Math.E, -0.125];
        string path = Write(compressed,
            ("a", NpyBytes("|u1", [2, 2], u8)),
            ("b", NpyBytes("<i8", [3], Raw(i8))),
            ("c", NpyBytes("<f8", [1, 2], Raw(f8))),
            ("d", NpyBytes("|b1", [2], [1, 0])),
            ("e", NpyBytes("<i4", [2], [.. BitConverter.GetBytes(-7), .. BitConverter.GetBytes(9)])),
            ("f", NpyBytes("<f4", [1], BitConverter.GetBytes(1.5f))));

        using Npz npz = Npz.Open(path);

        NpyArray a = npz.Read("a");
        Assert.Equal([2, 2], a.Shape);
        Assert.Equal(u8, a.Raw);
        Assert.Equal(i8, npz.Read("b").ToInt64());
        Assert.Equal(f8, npz.Read("c").ToDoubles());
        Assert.Equal([1.0, 0.0], npz.Read("d").ToDoubles());
        Assert.Equal([-7L, 9L], npz.Read("e").ToInt64());
        Assert.Equal([1.5], npz.Read("f").ToDoubles());
        Assert.Equal(["a", "b", "c", "d", "e", "f"], npz.Keys.Order());
    }

    [Fact]
    public void Read_MissingKey_NamesKeyAndListsThosePresent()
    {
        string path = Write(false, ("imgs", NpyBytes("|u1", [1], [0])));
        using Npz npz = Npz.Open(path);

        var ex = Assert.Throws<DataFormatException>(() => npz.Read("latents_values"));

        Assert.Equal($"{path}: missing key 'latents_values'; the archive holds: imgs", ex.Message);
    }

    [Fact]
    public void Open_NotAZip_ThrowsNamingTheFile()
    {
        string path = _temp.File("x.npz");
        File.WriteAllBytes(path, NpyBytes("|u1", [1], [0]));

        var ex = Assert.Throws<DataFormatException>(() => Npz.Open(path));

        Assert.StartsWith($"{path}: not a .npz file (zip archive)", ex.Message);
    }

    [Fact]
    public void Read_EntryDataTruncated_ThrowsWithKeyAndSizes()
    {
        byte[] npy = NpyBytes("<f8", [4], Raw([1.0, 2, 3, 4]));
        string path = Write(true, ("v", npy[..^8]));
        using Npz npz = Npz.Open(path);

        var ex = Assert.Throws<DataFormatException>(() => npz.Read("v"));

        Assert.StartsWith($"{path}: v: truncated data: shape (4,) of <f8 needs 32 bytes", ex.Message);
    }

    [Fact]
    public void Read_TruncatedArchive_ThrowsDataFormatException()
    {
        byte[] zip = NpzBytes(true, DspritesEntries(2));
        string path = _temp.File("cut.npz");
        File.WriteAllBytes(path, zip[..(zip.Length / 2)]);

        var ex = Assert.Throws<DataFormatException>(() =>
        {
            using Npz npz = Npz.Open(path);
            npz.Read("imgs");
        });

        Assert.StartsWith(path + ": ", ex.Message);
    }

    [Fact]
    public void Read_UnsupportedDtype_ListsSupported()
    {
        string path = Write(false, ("h", NpyBytes("<f2", [2], [0, 0, 0, 0])));
        using Npz npz = Npz.Open(path);

        var ex = Assert.Throws<DataFormatException>(() => npz.Read("h"));

        Assert.StartsWith($"{path}: h: unsupported dtype '<f2'; supported: '|u1' (uint8)", ex.Message);
    }

    [Fact]
    public void ToInt64_FloatArray_ThrowsNamingSource()
    {
        string path = Write(false, ("f", NpyBytes("<f8", [1], Raw([1.0]))));
        using Npz npz = Npz.Open(path);

        var ex = Assert.Throws<DataFormatException>(() => npz.Read("f").ToInt64());

        Assert.Equal($"{path}:f: expected an integer dtype, found '<f8' (float64)", ex.Message);
    }

    private string Write(bool compressed, params (string Key, byte[] Npy)[] entries)
    {
        string path = _temp.File("a.npz");
        File.WriteAllBytes(path, NpzBytes(compressed, entries));
        return path;
    }
}
