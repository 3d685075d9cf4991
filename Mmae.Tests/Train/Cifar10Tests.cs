using Mmae.Train.Data;
using Xunit;
using static Mmae.Tests.Train.DataFixtures;

namespace Mmae.Tests.Train;

public sealed class Cifar10Tests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Load_TwoBatchFiles_ReadsInNameOrderAndDropsLabelBytes()
    {
        File.WriteAllBytes(_temp.File("test_batch.bin"), CifarRecords(3, 2));
        File.WriteAllBytes(_temp.File("data_batch_1.bin"), CifarRecords(0, 3));

        Dataset data = Cifar10.Load(_temp.Path, PixelRange.ZeroToOne);

        Assert.Equal(5, data.Count);
        Assert.Equal(new ImageShape(3, 32, 32), data.Image);
        Assert.Equal([0, 1, 2, 3, 4], data.Labels);
        for (int i = 0; i < 5; i++)
        {
            foreach (int p in new[] { 0, 1023, 1024, 3071 })
            {
                Assert.Equal((i * 31 + p) % 256 / 255f, data.Features[i * 3072 + p], 6);
            }
        }
    }

    [Fact]
    public void Load_LengthNotAMultipleOfRecord_ThrowsTruncated()
    {
        byte[] records = CifarRecords(0, 2);
        File.WriteAllBytes(_temp.File("a.bin"), records[..^1]);

        var ex = Assert.Throws<DataFormatException>(() => Cifar10.Load(_temp.Path));

        Assert.StartsWith($"{_temp.File("a.bin")}: length 6145 is not a positive multiple of the 3073-byte",
            ex.Message);
    }

    [Fact]
    public void Load_LabelBeyondClassNames_Throws()
    {
        File.WriteAllBytes(_temp.File("a.bin"), CifarRecords(0, 4));
        File.WriteAllLines(_temp.File("batches.meta.txt"), ["cat", "dog", "ship"]);

        var ex = Assert.Throws<DataFormatException>(() => Cifar10.Load(_temp.Path));

        Assert.Equal($"{_temp.File("a.bin")}: record 3: label 3 is not a class index in 0..2", ex.Message);
    }

    [Fact]
    public void Load_NoBatchFiles_ThrowsFileNotFoundWithWhereToGetThem()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => Cifar10.Load(_temp.Path));

        Assert.Contains("no *.bin batch files", ex.Message);
        Assert.Contains("cs.toronto.edu", ex.Message);
    }

    [SharedDataFact("cifar10-subset")]
    public void Load_SharedSubset_MatchesProvenance()
    {
        string folder = Shared("cifar10-subset");

        Dataset data = Cifar10.Load(folder, PixelRange.ZeroToOne);

        Assert.Equal(5000, data.Count);
        Assert.Equal(["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
            Cifar10.ClassNames(folder)!);
        Assert.Equal([6, 9, 9, 4, 1, 1, 2, 7, 8, 3], data.Labels[..10]);
        Assert.Equal([3, 8, 8, 0, 6, 6, 1, 6, 3, 1], data.Labels[4000..4010]);
        int[] trainCounts = new int[10];
        foreach (int label in data.Labels[..4000])
        {
            trainCounts[label]++;
        }

        Assert.Equal([396, 366, 420, 384, 422, 393, 414, 385, 407, 413], trainCounts);
        byte[] firstRed = [59, 43, 50, 68, 98, 119, 139, 145, 149, 149];
        Assert.Equal(firstRed.Select(b => b / 255f), data.Features[..10]);
    }
}
