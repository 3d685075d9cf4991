using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mmae.Engine.IO;

/// <summary>Thrown when a checkpoint file is malformed; the message names the file.</summary>
public sealed class CheckpointFormatException : Exception
{
    /// <summary>Creates the exception with a one-line message.</summary>
    public CheckpointFormatException(string message)
        : base(message)
    {
    }
}

/// <summary>
/// Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON
/// header of name → {dtype, shape, data_offsets} plus string metadata, then raw little-endian
/// data. Python's <c>safetensors.torch.load_file</c> reads what this writes.
/// </summary>
public static class SafeTensors
{
    // A header beyond this is not a model checkpoint; refuse it before allocating.
    private const long MaxHeaderBytes = 100L << 20;

    /// <summary>
    /// Writes float32 tensors and metadata to <paramref name="path"/> through a temporary file
    /// in the same folder that is flushed and then renamed, so a reader never sees half a file.
    /// </summary>
    public static void Save(
        string path,
        IEnumerable<(string Name, float[] Data, int[] Shape)> tensors,
        IReadOnlyDictionary<string, string> metadata)
    {
        var header = new JsonObject();
        var meta = new JsonObject();
        foreach ((string k, string v) in metadata)
        {
            meta[k] = v;
        }

        header["__metadata__"] = meta;
        var list = tensors.ToList();
        long offset = 0;
        foreach ((string name, float[] data, int[] shape) in list)
        {
            long bytes = (long)data.Length * sizeof(float);
            header[name] = new JsonObject
            {
                ["dtype"] = "F32",
                ["shape"] = new JsonArray(shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes),
            };
            offset += bytes;
        }

        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8;
        string full = Path.GetFullPath(path);
        string tmp = full + ".tmp-" + Environment.ProcessId;
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)padded);
            fs.Write(len);
            fs.Write(json);
            for (int i = json.Length; i < padded; i++)
            {
                fs.WriteByte((byte)' ');
            }

            foreach ((_, float[] data, _) in list)
            {
                byte[] raw = new byte[data.Length * sizeof(float)];
                for (int i = 0; i < data.Length; i++)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * 4), data[i]);
                }

                fs.Write(raw);
            }

            fs.Flush(flushToDisk: true);
        }

        File.Move(tmp, full, overwrite: true);
    }

    /// <summary>Reads every F32 tensor and the metadata of a safetensors file.</summary>
    /// <exception cref="CheckpointFormatException">The file is malformed.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static (Dictionary<string, (float[] Data, int[] Shape)> Tensors, Dictionary<string, string> Metadata)
        Load(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        long fileLength = fs.Length;
        Span<byte> len = stackalloc byte[8];
        if (fs.Read(len) != 8)
        {
            throw new CheckpointFormatException($"{path}: too short for a safetensors header.");
        }

        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(len);
        if (headerLength > (ulong)MaxHeaderBytes || (long)headerLength > fileLength - 8)
        {
            throw new CheckpointFormatException(
                $"{path}: header length {headerLength} does not fit the file ({fileLength} bytes).");
        }

        byte[] json = new byte[headerLength];
        fs.ReadExactly(json);
        JsonObject header;
        try
        {
            header = JsonNode.Parse(json)?.AsObject()
                ?? throw new CheckpointFormatException($"{path}: empty header.");
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            throw new CheckpointFormatException($"{path}: header is not a JSON object ({ex.Message}).");
        }

        long dataStart = 8 + (long)headerLength;
        long dataLength = fileLength - dataStart;
        var tensors = new Dictionary<string, (float[], int[])>();
        var metadata = new Dictionary<string, string>();
        foreach ((string name, JsonNode? node) in header)
        {
            try
            {
                if (name == "__metadata__")
                {
                    foreach ((string k, JsonNode? v) in node!.AsObject())
                    {
                        metadata[k] = v!.GetValue<string>();
                    }

                    continue;
                }

                JsonObject entry = node!.AsObject();
                string dtype = entry["dtype"]!.GetValue<string>();
                if (dtype != "F32")
                {
                    throw new CheckpointFormatException(
                        $"{path}: tensor '{name}' has dtype {dtype}; only F32 is read.");
                }

                int[] shape = entry["shape"]!.AsArray().Select(d => d!.GetValue<int>()).ToArray();
                long start = entry["data_offsets"]![0]!.GetValue<long>();
                long end = entry["data_offsets"]![1]!.GetValue<long>();
                long count = shape.Aggregate(1L, (a, d) => d < 0 ? -1 : a * d);
                if (count < 0 || start < 0 || end > dataLength || end - start != count * 4)
                {
                    throw new CheckpointFormatException(
                        $"{path}: tensor '{name}' offsets [{start}, {end}) do not match shape "
                        + $"({string.Join(", ", shape)}) within {dataLength} data bytes.");
                }

                var data = new float[count];
                byte[] raw = new byte[end - start];
                fs.Position = dataStart + start;
                fs.ReadExactly(raw);
                for (int i = 0; i < data.Length; i++)
                {
                    data[i] = BinaryPrimitives.ReadSingleLittleEndian(raw.AsSpan(i * 4));
                }

                tensors[name] = (data, shape);
            }
            catch (Exception ex) when (ex is InvalidOperationException or FormatException or NullReferenceException
                or ArgumentOutOfRangeException or IndexOutOfRangeException)
            {
                throw new CheckpointFormatException($"{path}: entry '{name}' is malformed ({ex.Message}).");
            }
        }

        return (tensors, metadata);
    }
}
