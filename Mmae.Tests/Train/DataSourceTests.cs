using Mmae.Train.Data;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;
using static Mmae.Tests.Train.DataFixtures;
using static Mmae.Tests.Train.TrainTestSupport;

namespace Mmae.Tests.Train;

public sealed class DataSourceTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Detect_EachLayout_FindsItsKind()
    {
        Assert.Equal(DataKind.Idx, DataSource.Detect(Path.Combine(RepoRoot(), "data", "mnist-10k")));
        Assert.Equal(DataKind.Dsprites, DataSource.Detect(Path.Combine(RepoRoot(), "data", "dsprites-random20k")));
        Assert.Equal(DataKind.Cifar10, DataSource.Detect(Folder("c", ("a.bin", CifarRecords(0, 1)))));
        Assert.Equal(DataKind.Celeba, DataSource.Detect(Folder("f", ("list_attr_celeba.txt", [0x31]))));
        string npz = Folder("n", ("dsprites.npz", NpzBytes(false, DspritesEntries(1))));
        Assert.Equal(DataKind.Dsprites, DataSource.Detect(npz));
        Assert.Equal(DataKind.Dsprites, DataSource.Detect(Path.Combine(npz, "dsprites.npz")));
        Assert.Equal(DataKind.Shapes3d, DataSource.Detect(Path.Combine(Folder("h", ("x.h5", [1])), "x.h5")));
    }

    [Fact]
    public void Detect_UnknownFolder_ThrowsListingWhatItLookedFor()
    {
        string folder = Folder("u", ("readme.txt", [0x41]));

        var ex = Assert.Throws<DataFormatException>(() => DataSource.Detect(folder));

        Assert.StartsWith($"{folder}: cannot tell the data kind: found none of list_attr_celeba.txt", ex.Message);
    }

    [Fact]
    public void Detect_NothingThere_ThrowsFileNotFound()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => DataSource.Detect(_temp.File("none")));

        Assert.Contains("no such file or folder", ex.Message);
    }

    [Fact]
    public void Open_FolderWithOneNpz_ReadsItNamedAfterTheFile()
    {
        string folder = Folder("n", ("dsprites_small.npz", NpzBytes(true, DspritesEntries(4))));

        Dataset data = DataSource.Open(folder, options: new DataOptions { MaxCount = 3 });

        Assert.Equal("dsprites_small", data.Name);
        Assert.Equal(3, data.Count);
        Assert.Equal(3, data.Factors!.Count);
    }

    [Fact]
    public void Open_BundledMnistAsIdx_KeepsMinusOneToOneAndAddsImageShape()
    {
        Dataset data = DataSource.Open(Path.Combine(RepoRoot(), "data", "mnist-10k"), DataKind.Idx,
            new DataOptions { MaxCount = 10 });

        Assert.Equal("mnist-10k", data.Name);
        Assert.Equal(new ImageShape(1, 28, 28), data.Image);
        Assert.Equal(PixelRange.MinusOneToOne, data.PixelRange);
        Assert.Equal(-1f, data.Features.Min());
    }

    [Theory]
    [InlineData("train-")]
    [InlineData("t10k-")]
    public void Open_OfficialMnistFileNames_AreIdx(string prefix)
    {
        // The bundled files under the names MNIST and Fashion-MNIST publish them with.
        string bundled = Path.Combine(RepoRoot(), "data", "mnist-10k");
        string folder = _temp.File("official-" + prefix);
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(bundled, "images-idx3-ubyte.gz"), Path.Combine(folder, prefix + "images-idx3-ubyte.gz"));
        File.Copy(Path.Combine(bundled, "labels-idx1-ubyte.gz"), Path.Combine(folder, prefix + "labels-idx1-ubyte.gz"));

        Assert.Equal(DataKind.Idx, DataSource.Detect(folder));
        Dataset data = DataSource.Open(folder, DataKind.Idx, new DataOptions { MaxCount = 10 });
        Dataset same = DataSource.Open(bundled, DataKind.Idx, new DataOptions { MaxCount = 10 });
        Assert.Equal(same.Features, data.Features);
        Assert.Equal(same.Labels, data.Labels);
    }

    [Fact]
    public void Open_CelebaWithImageSize_ResizesToIt()
    {
        string folder = Folder("celeba");
        using (var image = new Image<Rgb24>(5, 7))
        {
            image.Save(Path.Combine(folder, "1.png"));
        }

        File.WriteAllLines(Path.Combine(folder, "list_attr_celeba.txt"), ["1", "Male", "1.png 1"]);

        Dataset data = DataSource.Open(folder, DataKind.Auto, new DataOptions { ImageSize = 4 });

        Assert.Equal(new ImageShape(3, 4, 4), data.Image);
        Assert.Equal([1], data.Labels);
    }

    [Theory]
    [InlineData("MNIST", DataKind.Idx)]
    [InlineData("fashion-mnist", DataKind.FashionMnist)]
    [InlineData("cifar10", DataKind.Cifar10)]
    [InlineData("dsprites", DataKind.Dsprites)]
    [InlineData("shapes3d", DataKind.Shapes3d)]
    [InlineData("celeba", DataKind.Celeba)]
    public void ParseKind_KnownNames_Parse(string name, DataKind kind) =>
        Assert.Equal(kind, DataSource.ParseKind(name));

    [Fact]
    public void ParseKind_Unknown_ThrowsListingKnown()
    {
        var ex = Assert.Throws<ArgumentException>(() => DataSource.ParseKind("svhn"));

        Assert.StartsWith($"unknown data kind 'svhn'; known: {DataSource.KindNames}", ex.Message);
    }

    [SharedDataFact("fashion-mnist-test")]
    public void Open_SharedFashionMnist_MatchesProvenance()
    {
        Dataset data = DataSource.Open(Shared("fashion-mnist-test"), DataKind.FashionMnist);

        Assert.Equal(10_000, data.Count);
        Assert.Equal(new ImageShape(1, 28, 28), data.Image);
        Assert.Equal([9, 2, 1, 1, 6, 1, 4, 6, 5, 7], data.Labels[..10]);
        Assert.All(data.Labels.GroupBy(l => l), g => Assert.Equal(1000, g.Count()));
    }

    private string Folder(string name, params (string File, byte[] Bytes)[] files)
    {
        string folder = _temp.File(name);
        Directory.CreateDirectory(folder);
        foreach ((string file, byte[] bytes) in files)
        {
            File.WriteAllBytes(Path.Combine(folder, file), bytes);
        }

        return folder;
    }
}
