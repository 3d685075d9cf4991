using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mmae.Engine.IO;

/// <summary>Thrown when a checkpoint file is malformed; the message names the file.</summary>
public sealed class CheckpointFormatException : Exception
{
    /// <summary>Creates the exception with a one-line message.</summary>
    public CheckpointFormatException(string message)
        : base(message.ReplaceLineEndings(" "))
    {
    }
}

/// <summary>The tensors and metadata of one safetensors file.</summary>
public sealed class SafeTensorsFile
{
    /// <summary>F32 tensors by name.</summary>
    public Dictionary<string, (float[] Data, int[] Shape)> Floats { get; } = [];

    /// <summary>I32 tensors by name.</summary>
    public Dictionary<string, (int[] Data, int[] Shape)> Ints { get; } = [];

    /// <summary>The string metadata (<c>__metadata__</c>).</summary>
    public Dictionary<string, string> Metadata { get; } = [];
}

/// <summary>
/// Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON
/// header of name → {dtype, shape, data_offsets} plus string metadata, then raw little-endian
/// data. Python's <c>safetensors.torch.load_file</c> reads what this writes.
/// </summary>
/// <remarks>
/// Reading checks the whole header against the file before allocating anything for tensor
/// data: the header length must fit the file, every shape must match its byte range, and the
/// ranges must tile the data section exactly (no gaps, no overlaps), so the tensors allocated
/// never add up to more than the file holds. Limitation: only the F32 and I32 dtypes are read
/// and written; a file with another dtype (F16, BF16, F64...) is refused with its name.
/// </remarks>
public static class SafeTensors
{
    // A header beyond this is not a model checkpoint; refuse it before allocating.
    private const long MaxHeaderBytes = 100L << 20;
    private const string MetadataKey = "__metadata__";

    /// <summary>
    /// Writes float32 tensors and metadata to <paramref name="path"/> through a temporary file
    /// in the same folder that is flushed and then renamed, so a reader never sees half a file.
    /// </summary>
    /// <param name="path">Destination file.</param>
    /// <param name="tensors">Float32 tensors; each shape's product must equal its length.</param>
    /// <param name="metadata">String pairs stored in <c>__metadata__</c>.</param>
    /// <param name="intTensors">Optional int32 tensors, stored after the float ones.</param>
    /// <param name="fileSystem">File operations; null for the real file system.</param>
    /// <exception cref="ArgumentException">A shape does not match its data, or a name repeats.</exception>
    /// <exception cref="IOException">The write failed; any previous file is unchanged.</exception>
    public static void Save(
        string path,
        IEnumerable<(string Name, float[] Data, int[] Shape)> tensors,
        IReadOnlyDictionary<string, string> metadata,
        IEnumerable<(string Name, int[] Data, int[] Shape)>? intTensors = null,
        IFileSystem? fileSystem = null)
    {
        var floats = tensors.ToList();
        var ints = (intTensors ?? []).ToList();
        var header = new JsonObject();
        var meta = new JsonObject();
        foreach ((string k, string v) in metadata)
        {
            meta[k] = v;
        }

        header[MetadataKey] = meta;
        long offset = 0;
        var entries = floats.Select(t => (t.Name, "F32", t.Data.Length, t.Shape))
            .Concat(ints.Select(t => (t.Name, "I32", t.Data.Length, t.Shape)));
        foreach ((string name, string dtype, int length, int[] shape) in entries)
        {
            if (shape.Aggregate(1L, (a, d) => a * d) != length || shape.Any(d => d < 0))
            {
                throw new ArgumentException(
                    $"SafeTensors.Save: tensor '{name}' has {length} values but shape "
                    + $"({string.Join(", ", shape)}).",
                    nameof(tensors));
            }

            if (name == MetadataKey || header.ContainsKey(name))
            {
                throw new ArgumentException($"SafeTensors.Save: tensor name '{name}' repeats or is reserved.",
                    nameof(tensors));
            }

            long bytes = (long)length * 4;
            header[name] = new JsonObject
            {
                ["dtype"] = dtype,
                ["shape"] = new JsonArray(shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes),
            };
            offset += bytes;
        }

        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8;
        AtomicWriter.Write(path, stream =>
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)padded);
            stream.Write(len);
            stream.Write(json);
            for (int i = json.Length; i < padded; i++)
            {
                stream.WriteByte((byte)' ');
            }

            foreach ((_, float[] data, _) in floats)
            {
                WriteLittleEndian(stream, MemoryMarshal.Cast<float, int>(data));
            }

            foreach ((_, int[] data, _) in ints)
            {
                WriteLittleEndian(stream, data);
            }
        }, fileSystem);
    }

    /// <summary>Reads the F32 tensors (I32 ones are read and left out) and the metadata.</summary>
    /// <exception cref="CheckpointFormatException">The file is malformed or holds another dtype.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static (Dictionary<string, (float[] Data, int[] Shape)> Tensors, Dictionary<string, string> Metadata)
        Load(string path)
    {
        SafeTensorsFile file = Read(path);
        return (file.Floats, file.Metadata);
    }

    /// <summary>Reads every tensor (F32 and I32) and the metadata of a safetensors file.</summary>
    /// <exception cref="CheckpointFormatException">The file is malformed: too short, a header
    /// length or offsets that do not fit the file, a header that is not the expected JSON, an
    /// unsupported dtype, or data ranges with gaps or overlaps.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static SafeTensorsFile Read(string path)
    {
        FileStream fs;
        try
        {
            fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException($"{path}: checkpoint not found.", path, ex);
        }

        using (fs)
        {
            try
            {
                return ReadFrom(path, fs);
            }
            catch (EndOfStreamException)
            {
                // Only when the file shrinks while being read: the sizes were checked first.
                throw new CheckpointFormatException(
                    $"{path}: the file ended early (changed while being read?).");
            }
        }
    }

    private static SafeTensorsFile ReadFrom(string path, FileStream fs)
    {
        long fileLength = fs.Length;
        if (fileLength < 8)
        {
            throw Fail(path,
                $"{fileLength} bytes is too short for a safetensors file (8-byte header length first)");
        }

        Span<byte> len = stackalloc byte[8];
        fs.ReadExactly(len);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(len);
        if (headerLength > (ulong)MaxHeaderBytes || (long)headerLength > fileLength - 8)
        {
            throw Fail(path, $"header length {headerLength} does not fit the file ({fileLength} bytes)");
        }

        byte[] json = new byte[headerLength];
        fs.ReadExactly(json);
        var file = new SafeTensorsFile();
        List<Entry> entries = ParseHeader(path, json, file.Metadata);

        // The ranges must tile [0, dataLength): sorted by start, each begins where the last ended.
        long dataStart = 8 + (long)headerLength;
        long dataLength = fileLength - dataStart;
        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long expected = 0;
        foreach (Entry e in entries)
        {
            if (e.Begin != expected)
            {
                throw Fail(path, $"tensor '{e.Name}' starts at data byte {e.Begin}, expected {expected} "
                    + "(ranges must follow each other without gaps or overlaps)");
            }

            expected = e.End;
        }

        if (expected != dataLength)
        {
            throw Fail(path, $"tensors cover {expected} data bytes, the file has {dataLength}");
        }

        foreach (Entry e in entries)
        {
            int count = (int)((e.End - e.Begin) / 4);
            int[] data = new int[count];
            fs.ReadExactly(MemoryMarshal.AsBytes(data.AsSpan()));
            if (!BitConverter.IsLittleEndian)
            {
                BinaryPrimitives.ReverseEndianness(data, data);
            }

            if (e.DType == "F32")
            {
                file.Floats[e.Name] = (MemoryMarshal.Cast<int, float>(data).ToArray(), e.Shape);
            }
            else
            {
                file.Ints[e.Name] = (data, e.Shape);
            }
        }

        return file;
    }

    private static List<Entry> ParseHeader(string path, byte[] json, Dictionary<string, string> metadata)
    {
        if (!System.Text.Unicode.Utf8.IsValid(json))
        {
            throw Fail(path, "header is not valid UTF-8");
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException)
        {
            throw Fail(path, $"header is not valid JSON ({ex.Message})");
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Fail(path, $"header is a JSON {doc.RootElement.ValueKind}, expected an object");
            }

            var entries = new List<Entry>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty prop in doc.RootElement.EnumerateObject())
            {
                if (!names.Add(prop.Name))
                {
                    throw Fail(path, $"header names '{prop.Name}' twice");
                }

                if (prop.Name == MetadataKey)
                {
                    ReadMetadata(path, prop.Value, metadata);
                }
                else
                {
                    entries.Add(ReadEntry(path, prop.Name, prop.Value));
                }
            }

            return entries;
        }
    }

    private static void ReadMetadata(string path, JsonElement node, Dictionary<string, string> metadata)
    {
        if (node.ValueKind != JsonValueKind.Object)
        {
            throw Fail(path, $"{MetadataKey} is a JSON {node.ValueKind}, expected an object of strings");
        }

        foreach (JsonProperty p in node.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String || !metadata.TryAdd(p.Name, p.Value.GetString()!))
            {
                throw Fail(path, $"metadata '{p.Name}' is not a string, or repeats");
            }
        }
    }

    private static Entry ReadEntry(string path, string name, JsonElement node)
    {
        if (node.ValueKind != JsonValueKind.Object
            || !node.TryGetProperty("dtype", out JsonElement dtypeNode)
            || !node.TryGetProperty("shape", out JsonElement shapeNode)
            || !node.TryGetProperty("data_offsets", out JsonElement offsetsNode)
            || dtypeNode.ValueKind != JsonValueKind.String
            || shapeNode.ValueKind != JsonValueKind.Array
            || offsetsNode.ValueKind != JsonValueKind.Array
            || offsetsNode.GetArrayLength() != 2)
        {
            throw Fail(path, $"tensor '{name}' needs dtype (a string), shape (an array) and data_offsets "
                + "(two numbers)");
        }

        string dtype = dtypeNode.GetString()!;
        if (dtype is not ("F32" or "I32"))
        {
            throw Fail(path, $"tensor '{name}' has dtype {dtype}; supported: F32, I32");
        }

        var shape = new int[shapeNode.GetArrayLength()];
        Int128 count = 1;
        int i = 0;
        foreach (JsonElement d in shapeNode.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out shape[i]) || shape[i] < 0)
            {
                throw Fail(path,
                    $"tensor '{name}' has a shape entry that is not a whole number in 0..{int.MaxValue}");
            }

            count *= shape[i++];
            count = Int128.Min(count, (Int128)long.MaxValue);
        }

        JsonElement b = offsetsNode[0], e = offsetsNode[1];
        if (b.ValueKind != JsonValueKind.Number || e.ValueKind != JsonValueKind.Number
            || !b.TryGetInt64(out long begin) || !e.TryGetInt64(out long end) || begin < 0 || end < begin)
        {
            throw Fail(path, $"tensor '{name}' has data_offsets that are not two whole numbers begin <= end");
        }

        if (count * 4 != end - begin || count > Array.MaxLength)
        {
            throw Fail(path, $"tensor '{name}' of shape ({string.Join(", ", shape)}) and dtype {dtype} needs "
                + $"{count * 4} bytes, its data_offsets [{begin}, {end}) hold {end - begin}");
        }

        return new Entry(name, dtype, shape, begin, end);
    }

    private static void WriteLittleEndian(Stream stream, ReadOnlySpan<int> data)
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(data));
            return;
        }

        var swapped = new int[data.Length];
        BinaryPrimitives.ReverseEndianness(data, swapped);
        stream.Write(MemoryMarshal.AsBytes(swapped.AsSpan()));
    }

    private static CheckpointFormatException Fail(string path, string problem) => new($"{path}: {problem}.");

    private sealed record Entry(string Name, string DType, int[] Shape, long Begin, long End);
}
