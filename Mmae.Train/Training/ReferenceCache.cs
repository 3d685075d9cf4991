using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Mmae.Train.Data;
using Mmae.Train.Output;

namespace Mmae.Train.Training;

/// <summary>
/// A folder of computed reference embeddings, keyed by the data set's content, the method and
/// its parameters, so a λ sweep computes each reference once.
/// </summary>
/// <remarks>
/// <para>File name: <c>METHOD-L-KEY.ref</c>, KEY the first 16 hex digits of
/// SHA-256(data hash, spec, parameters, <see cref="FormatVersion"/>). Contents, little-endian:
/// the 8 bytes <c>MMAEREF1</c>, the key text (int32 length + UTF-8), n and L (int32 each),
/// n × L float32 rows, then the SHA-256 of everything before it. A file is written to a
/// temporary name and renamed, so readers never see a partial one; a file that is short,
/// fails its checksum, or holds another key is reported and recomputed, never used.</para>
/// <para>Limitation: nothing is ever deleted; remove the folder to reclaim the space.</para>
/// </remarks>
public sealed class ReferenceCache
{
    /// <summary>Bumped whenever an algorithm change makes old entries stale.</summary>
    public const int FormatVersion = 1;

    private static readonly byte[] s_magic = "MMAEREF1"u8.ToArray();

    /// <summary>A cache in <paramref name="folder"/> (created on the first write).</summary>
    public ReferenceCache(string folder)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        Folder = folder;
    }

    /// <summary>The cache folder.</summary>
    public string Folder { get; }

    /// <summary>SHA-256 (hex) of the data set's shape and features.</summary>
    public static string DataHash(Dataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> shape = stackalloc byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(shape, data.Count);
        BinaryPrimitives.WriteInt32LittleEndian(shape[4..], data.Dim);
        sha.AppendData(shape);

        // Floats are hashed as their little-endian bytes (the only byte order .NET runs on here).
        sha.AppendData(MemoryMarshal.AsBytes(data.Features.AsSpan()));
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>The full key text of a reference: what the file records and is checked
    /// against.</summary>
    public static string Key(string dataHash, string spec, string parameters) =>
        $"data={dataHash} spec={spec} {parameters} format={FormatVersion}";

    /// <summary>The path an entry with this key is stored at.</summary>
    public string PathFor(string kind, int dim, string key)
    {
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];
        return Path.Combine(Folder, $"{kind}-{dim}-{hash}.ref");
    }

    /// <summary>Loads the entry at <paramref name="path"/> when it exists and is sound.</summary>
    /// <param name="path">From <see cref="PathFor"/>.</param>
    /// <param name="key">The key the entry must hold.</param>
    /// <param name="problem">Why an existing file was rejected; null when it was used or
    /// absent.</param>
    /// <returns>The rows and L, or null.</returns>
    public static (float[] Rows, int Dim)? TryLoad(string path, string key, out string? problem)
    {
        problem = null;
        if (!File.Exists(path))
        {
            return null;
        }

        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problem = $"cannot be read ({DataFile.OneLine(ex.Message)})";
            return null;
        }

        problem = Check(bytes, key, out int n, out int dim, out int offset);
        if (problem is not null)
        {
            return null;
        }

        float[] rows = new float[n * dim];
        MemoryMarshal.Cast<byte, float>(bytes.AsSpan(offset, rows.Length * 4)).CopyTo(rows);
        return (rows, dim);
    }

    /// <summary>Stores an entry atomically (temporary file and rename).</summary>
    /// <exception cref="IOException">The folder or file cannot be written.</exception>
    public static void Store(string path, string key, float[] rows, int n, int dim)
    {
        ArgumentNullException.ThrowIfNull(rows);
        byte[] keyBytes = Encoding.UTF8.GetBytes(key);
        int bodyLength = s_magic.Length + 4 + keyBytes.Length + 8 + rows.Length * 4;
        byte[] bytes = new byte[bodyLength + SHA256.HashSizeInBytes];
        var span = bytes.AsSpan();
        s_magic.CopyTo(span);
        int at = s_magic.Length;
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], keyBytes.Length);
        keyBytes.CopyTo(span[(at + 4)..]);
        at += 4 + keyBytes.Length;
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], n);
        BinaryPrimitives.WriteInt32LittleEndian(span[(at + 4)..], dim);
        at += 8;
        MemoryMarshal.AsBytes(rows.AsSpan()).CopyTo(span[at..]);
        SHA256.HashData(span[..bodyLength], span[bodyLength..]);
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }

    // Null when the bytes are a sound entry for `key`; otherwise what is wrong.
    private static string? Check(byte[] bytes, string key, out int n, out int dim, out int offset)
    {
        n = dim = offset = 0;
        int hashAt = bytes.Length - SHA256.HashSizeInBytes;
        if (hashAt < s_magic.Length + 12 || !bytes.AsSpan(0, s_magic.Length).SequenceEqual(s_magic))
        {
            return "is not a reference cache file (bad magic or too short)";
        }

        byte[] digest = SHA256.HashData(bytes.AsSpan(0, hashAt));
        if (!digest.AsSpan().SequenceEqual(bytes.AsSpan(hashAt)))
        {
            return "fails its checksum (corrupt or truncated)";
        }

        int at = s_magic.Length;
        int keyLength = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at));
        if (keyLength < 0 || at + 4 + keyLength + 8 > hashAt)
        {
            return "has a bad key length";
        }

        string stored = Encoding.UTF8.GetString(bytes, at + 4, keyLength);
        if (stored != key)
        {
            return "holds another reference (key differs)";
        }

        at += 4 + keyLength;
        n = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at));
        dim = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(at + 4));
        offset = at + 8;
        if (n < 1 || dim < 1 || (long)n * dim * 4 != hashAt - offset)
        {
            return $"has a shape ({n}, {dim}) that does not match its length";
        }

        return null;
    }
}
