using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using Mmae.Engine;
using Mmae.Engine.IO;
using Mmae.Engine.Modules;
using Mmae.Kernels.Cpu;
using Mmae.Tests.Engine;
using Mmae.Train.Data;
using Mmae.Train.Output;
using Mmae.Train.Training;
using Xunit;

namespace Mmae.Tests.Train;

/// <summary>
/// Every reader of outside data gets 10,000 damaged files (see <see cref="FileMutator"/>) and
/// must answer each with its one typed error, a one-line message naming the file, or read it
/// when the damage left it valid; never another exception, and never an allocation larger
/// than the file gives reason for.
/// </summary>
public class ReaderFuzzTests
{
    private const int Iterations = 10_000;

    // Allocation allowed per read: fixed costs (file buffers of 64 KiB, JSON documents, a tiny
    // model) plus a small multiple of the file's size. A reader that trusted a forged length
    // field would allocate gigabytes and fail this at once.
    private const long FixedAllocation = 1 << 20;
    private const long PerFileByte = 64;

    // A gzip stream may inflate to 1032 times its size (deflate's limit) and the growing buffer
    // may double once more.
    private const long PerGzipByte = 2 * 1032 + 64;

    private static readonly CpuBackend s_backend = new(1);

    [Fact]
    public void IdxReader_MutatedFiles_OnlyDataFormatException()
    {
        byte[] pixels = TrainTestSupport.Pattern(48, 1);
        byte[] images = TrainTestSupport.Idx(IdxReader.ImagesMagic, [3, 4, 4], pixels);
        byte[] labels = TrainTestSupport.Idx(IdxReader.LabelsMagic, [3], [1, 7, 9]);
        HeaderField[] fields = [new(0, 4, true), new(4, 4, true), new(8, 4, true), new(12, 4, true)];
        int round = 0;

        // Four kinds in turn: raw images, raw labels, damaged-then-compressed images (the
        // header edits reach the reader through gzip), and damaged gzip bytes.
        Fuzz("idx", images, fields, seed: 11, typeof(DataFormatException), gzipBudget: true,
            transform: (m, bytes) => (round++ % 4) switch
            {
                0 => bytes,
                1 => m.Mutate(labels),
                2 => TrainTestSupport.Gzip(bytes),
                _ => m.Mutate(TrainTestSupport.Gzip(images)),
            },
            read: path =>
            {
                if (round % 4 == 2)
                {
                    IdxReader.ReadLabels(path);
                }
                else
                {
                    IdxReader.ReadImages(path);
                }
            });
    }

    [Fact]
    public void Npy_MutatedFiles_OnlyDataFormatException()
    {
        using var tmp = new TempFolder();
        Npy.Write(tmp.File("seed.npy"), [1.5f, -2f, 3f, 4f, 5e-3f, 6f], 3, 2);
        byte[] v1 = File.ReadAllBytes(tmp.File("seed.npy"));
        byte[] v2 = NpyVersion2Float64([0.25, -1, 8], 3);
        HeaderField[] fields = [new(6, 1, false), new(8, 2, false), new(8, 4, false)];
        int round = 0;
        Fuzz("a.npy", v1, fields, seed: 12, typeof(DataFormatException),
            transform: (m, bytes) => round++ % 2 == 0 ? bytes : m.Mutate(v2),
            read: path => Npy.Read(path));
    }

    // Stored and deflated archives in turn; the deflated ones may claim up to deflate's limit.
    [Fact]
    public void DspritesNpz_MutatedFiles_OnlyDataFormatException()
    {
        var entries = DataFixtures.DspritesEntries(1);
        byte[] stored = DataFixtures.NpzBytes(false, entries);
        byte[] deflated = DataFixtures.NpzBytes(true, entries);
        int round = 0;
        Fuzz("d.npz", stored, [], seed: 18, typeof(DataFormatException), gzipBudget: true,
            transform: (m, bytes) => round++ % 2 == 0 ? bytes : m.Mutate(deflated),
            read: path => Dsprites.LoadNpz(path));
    }

    [Fact]
    public void DspritesLatentsCsv_MutatedFiles_OnlyDataFormatException()
    {
        byte[] images = TrainTestSupport.Idx(IdxReader.ImagesMagic, [2, 64, 64], new byte[2 * 4096]);
        byte[] seedFile = Encoding.UTF8.GetBytes(
            "row,original_index,color,shape,scale,orientation,posX,posY,color_value,shape_value,"
            + "scale_value,orientation_value,posX_value,posY_value\n"
            + "0,6,0,0,0,0,0,6,1,1,0.5,0,0,0.1935483871\n1,22,0,2,5,0,0,22,1,3,1,0,0,0.7096774194\n");
        Fuzz("latents.csv", seedFile, [], seed: 19, typeof(DataFormatException), read: path =>
        {
            string folder = Path.GetDirectoryName(path)!;
            File.WriteAllBytes(Path.Combine(folder, "images-idx3-ubyte"), images);
            Dataset data = Dsprites.LoadFolder(folder);
            Assert.Equal(2, data.Factors!.Count);
        });
    }

    [Fact]
    public void CelebaAttributes_MutatedFiles_OnlyDataFormatException()
    {
        using var image = new SixLabors.ImageSharp.Image<SixLabors.ImageSharp.PixelFormats.Rgb24>(3, 2);
        using var png = new MemoryStream();
        SixLabors.ImageSharp.ImageExtensions.SaveAsPng(image, png);
        byte[] seedFile = Encoding.UTF8.GetBytes("2\nSmiling Male\na.png  1 -1\nb.png -1  1\n");
        Fuzz("list_attr_celeba.txt", seedFile, [], seed: 21, typeof(DataFormatException), read: path =>
        {
            string folder = Path.GetDirectoryName(path)!;
            File.WriteAllBytes(Path.Combine(folder, "a.png"), png.ToArray());
            File.WriteAllBytes(Path.Combine(folder, "b.png"), png.ToArray());
            try
            {
                Celeba.Load(folder, size: 2);
            }
            catch (FileNotFoundException)
            {
                // A damaged file name names an image that is not there: the right answer.
            }
        });
    }

    [Fact]
    public void Shapes3dH5_MutatedFiles_OnlyDataFormatException()
    {
        using var tmp = new TempFolder();
        new PureHDF.H5File
        {
            ["images"] = new PureHDF.H5Dataset(new byte[2 * 64 * 64 * 3], fileDims: [2, 64, 64, 3]),
            ["labels"] = new PureHDF.H5Dataset(new double[12], fileDims: [2, 6]),
        }.Write(tmp.File("seed.h5"));
        byte[] seedFile = File.ReadAllBytes(tmp.File("seed.h5"));
        Fuzz("s.h5", seedFile, [], seed: 20, typeof(DataFormatException), read: path => Shapes3d.Load(path));
    }

    [Fact]
    public void ReferenceCsv_MutatedFiles_OnlyDataFormatException()
    {
        byte[] seedFile = Encoding.UTF8.GetBytes("1.5,-2\n3e-2,4\n5,6.25\n");
        Fuzz("ref.csv", seedFile, [], seed: 16, typeof(DataFormatException),
            read: path => ReferenceFile.Read(path, 3));
    }

    // The cache answers a damaged entry with a reason and recomputes it (never throws); the
    // test turns that reason into the error a reader would give, to hold it to the same rules.
    [Fact]
    public void ReferenceCache_MutatedEntries_RejectedWithAReason()
    {
        using var tmp = new TempFolder();
        string entry = tmp.File("seed.ref");
        ReferenceCache.Store(entry, "pca:2|data", [1f, 2f, 3f, 4f, 5f, 6f], 3, 2);
        byte[] seedFile = File.ReadAllBytes(entry);
        Fuzz("entry.ref", seedFile, [], seed: 17, typeof(DataFormatException), read: path =>
        {
            if (ReferenceCache.TryLoad(path, "pca:2|data", out string? problem) is null)
            {
                throw new DataFormatException(path, problem ?? "missing");
            }
        });
    }

    [Fact]
    public void ModelCheckpoint_MutatedFiles_OnlyCheckpointFormatException()
    {
        using var tmp = new TempFolder();
        var model = new DeepAutoencoder(s_backend, 5, 2, new Rng(1), [3]);
        Checkpoint.Save(tmp.File("seed.safetensors"), model, new TrainOptions { Latent = 2, Hidden = [3] });
        byte[] seedFile = File.ReadAllBytes(tmp.File("seed.safetensors"));
        Fuzz("model.safetensors", seedFile, [new(0, 8, false)], seed: 13, typeof(CheckpointFormatException),
            read: path => Checkpoint.Load(path, s_backend));
    }

    [Fact]
    public void TrainingCheckpoint_MutatedFiles_OnlyCheckpointFormatException()
    {
        byte[] seedFile = TrainingCheckpointBytes();
        Fuzz("checkpoint.safetensors", seedFile, [new(0, 8, false)], seed: 14,
            typeof(CheckpointFormatException), read: ReadTrainingCheckpoint);
    }

    // The configuration, progress and architecture are JSON inside the header's metadata: damage
    // them alone, inside an otherwise valid file, so the JSON readers get all the mutations.
    [Fact]
    public void TrainingCheckpoint_MutatedConfigurationJson_OnlyCheckpointFormatException()
    {
        byte[] seedFile = TrainingCheckpointBytes();
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(seedFile);
        JsonObject header = JsonNode.Parse(seedFile.AsSpan(8, headerLength))!.AsObject();
        byte[] data = seedFile[(8 + headerLength)..];
        string[] keys = ["mmae.config", "mmae.progress", "mmae.architecture"];
        int round = 0;
        Fuzz("checkpoint.safetensors", seedFile, [], seed: 15, typeof(CheckpointFormatException),
            transform: (m, _) =>
            {
                var copy = header.DeepClone().AsObject();
                JsonObject meta = copy["__metadata__"]!.AsObject();
                string key = keys[round++ % keys.Length];
                byte[] text = Encoding.UTF8.GetBytes(meta[key]!.GetValue<string>());
                meta[key] = Encoding.UTF8.GetString(m.Mutate(text));
                return SafeTensorsTests.Build(copy.ToJsonString(), data);
            },
            read: ReadTrainingCheckpoint);
    }

    private static void ReadTrainingCheckpoint(string path)
    {
        LoadedCheckpoint c = TrainingCheckpoint.Read(path);
        TrainingCheckpoint.Restore(c, c.Options, s_backend);
    }

    private static byte[] TrainingCheckpointBytes()
    {
        using var tmp = new TempFolder();
        var options = new TrainOptions { Latent = 2, Hidden = [3], Seed = 4 };
        TrainingState state = TrainingState.Fresh(options, s_backend, count: 7, dim: 5);
        state.Progress = new TrainingProgress { Rng = state.Rng.State, Fingerprint = "ab12" };
        TrainingCheckpoint.Save(tmp.File("seed.safetensors"), state, options);
        return File.ReadAllBytes(tmp.File("seed.safetensors"));
    }

    private static void Fuzz(
        string name,
        byte[] seedFile,
        HeaderField[] fields,
        int seed,
        Type expected,
        Action<string> read,
        Func<FileMutator, byte[], byte[]>? transform = null,
        bool gzipBudget = false)
    {
        using var tmp = TempFolder.InMemory();
        string path = tmp.File(name);
        var mutator = new FileMutator(seed, fields);
        var failures = new List<string>();
        int rejected = 0;
        for (int i = 0; i < Iterations && failures.Count < 5; i++)
        {
            byte[] bytes = mutator.Mutate(seedFile);
            bytes = transform is null ? bytes : transform(mutator, bytes);
            File.WriteAllBytes(path, bytes);
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                read(path);
            }
            catch (Exception ex) when (ex.GetType() == expected)
            {
                rejected++;
                if (!ex.Message.StartsWith(path, StringComparison.Ordinal) || ex.Message.Contains('\n'))
                {
                    failures.Add($"case {i}: message is not one line starting with the path: {ex.Message}");
                }
            }
            catch (Exception ex)
            {
                failures.Add($"case {i} ({bytes.Length} bytes): {ex.GetType().Name}: {ex.Message}");
            }

            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            long budget = FixedAllocation + (gzipBudget ? PerGzipByte : PerFileByte) * bytes.Length;
            if (allocated > budget)
            {
                failures.Add($"case {i}: allocated {allocated} bytes for a {bytes.Length}-byte file");
            }
        }

        Assert.True(failures.Count == 0, $"seed {seed}:\n" + string.Join("\n", failures));

        // Most mutations must break the file, or the test would not be exercising the errors.
        Assert.True(rejected > Iterations / 2, $"only {rejected} of {Iterations} files were rejected");
    }

    // A version 2.0 '<f8' 1-D array, as NumPy writes when a header outgrows 64 KiB.
    private static byte[] NpyVersion2Float64(double[] values, int n)
    {
        string dict = $"{{'descr': '<f8', 'fortran_order': False, 'shape': ({n},), }}";
        dict = dict.PadRight(64 - 12 - 1) + "\n";
        byte[] bytes = new byte[12 + dict.Length + 8 * values.Length];
        new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 2, 0 }.CopyTo(bytes, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)dict.Length);
        Encoding.ASCII.GetBytes(dict, bytes.AsSpan(12));
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(12 + dict.Length + 8 * i), values[i]);
        }

        return bytes;
    }
}
