using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Mmae.Tests.Train;

/// <summary>An integer field of a file format's header: where it is, its size, its byte order.</summary>
internal readonly record struct HeaderField(int Offset, int Size, bool BigEndian);

/// <summary>
/// Seeded mutations of a valid file, for feeding readers damaged input: bit flips, byte
/// overwrites, truncations, appended or inserted garbage, edits of known header fields to
/// boundary values, inflation of length fields, edits of digits and punctuation in text
/// headers (JSON, Python dict literals), splices, and now and then a file of random bytes.
/// The same seed gives the same sequence of files.
/// </summary>
internal sealed class FileMutator
{
    private static readonly long[] s_boundaries =
    [
        0, 1, -1, 2, 7, 8, 255, 256, 65535, 65536, int.MaxValue, int.MinValue, uint.MaxValue,
        int.MaxValue + 1L, 1L << 40, long.MaxValue, long.MinValue,
    ];

    private static readonly string[] s_textSubstitutes =
    [
        "0", "-1", "99999999999", "2147483648", "1e308", "NaN", "\"\"", "null", "[]", "{}", "[1,2]",
        "\"F16\"", "\"I64\"", "True", "False", "(1,)", "()", "'<f8'", "'>f4'", "'|u1'", ",", "",
    ];

    private readonly Random _rng;
    private readonly HeaderField[] _fields;

    /// <summary>A mutator drawing from <paramref name="seed"/>, aware of the header fields given.</summary>
    public FileMutator(int seed, params HeaderField[] fields)
    {
        _rng = new Random(seed);
        _fields = fields;
    }

    /// <summary>One to three mutations of <paramref name="original"/> (which is not changed).</summary>
    public byte[] Mutate(byte[] original)
    {
        if (_rng.Next(50) == 0)
        {
            return RandomBytes(_rng.Next(0, 2 * original.Length + 16));
        }

        var bytes = new List<byte>(original);
        int count = 1 + _rng.Next(3);
        for (int i = 0; i < count; i++)
        {
            MutateOnce(bytes, original.Length);
        }

        return bytes.ToArray();
    }

    private void MutateOnce(List<byte> b, int originalLength)
    {
        switch (_rng.Next(10))
        {
            case 0 when b.Count > 0:
                b[_rng.Next(b.Count)] ^= (byte)(1 << _rng.Next(8));
                break;
            case 1 when b.Count > 0:
                int value = _rng.Next(4) switch { 0 => 0, 1 => 0xFF, 2 => 0x80, _ => _rng.Next(256) };
                b[_rng.Next(b.Count)] = (byte)value;
                break;
            case 2:
                // Truncate, often inside the header.
                int keep = _rng.Next(2) == 0 ? _rng.Next(Math.Min(b.Count, 64) + 1) : _rng.Next(b.Count + 1);
                b.RemoveRange(keep, b.Count - keep);
                break;
            case 3:
                b.AddRange(RandomBytes(1 + _rng.Next(64)));
                break;
            case 4:
                b.InsertRange(_rng.Next(b.Count + 1), RandomBytes(1 + _rng.Next(16)));
                break;
            case 5 when b.Count > 0:
                int at = _rng.Next(b.Count);
                b.RemoveRange(at, Math.Min(b.Count - at, 1 + _rng.Next(16)));
                break;
            case 6 when _fields.Length > 0:
                SetField(b, _fields[_rng.Next(_fields.Length)], FieldValue(originalLength));
                break;
            case 7 when _fields.Length > 0:
                HeaderField f = _fields[_rng.Next(_fields.Length)];
                long old = GetField(b, f);
                long inflated = _rng.Next(3) switch { 0 => old * 2, 1 => old + originalLength, _ => old << 20 };
                SetField(b, f, inflated);
                break;
            case 8:
                EditText(b);
                break;
            default:
                if (b.Count > 2)
                {
                    int from = _rng.Next(b.Count), to = _rng.Next(b.Count);
                    int len = Math.Min(1 + _rng.Next(32), Math.Min(b.Count - from, b.Count - to));
                    byte[] chunk = b.GetRange(from, len).ToArray();
                    for (int i = 0; i < len; i++)
                    {
                        b[to + i] = chunk[i];
                    }
                }

                break;
        }
    }

    private long FieldValue(int originalLength) => _rng.Next(3) switch
    {
        0 => s_boundaries[_rng.Next(s_boundaries.Length)],
        1 => originalLength + _rng.Next(-16, 17),
        _ => _rng.NextInt64(),
    };

    // Replaces a run of digits, or one punctuation character, of an ASCII header with a value
    // that is out of range, of another type, or malformed.
    private void EditText(List<byte> b)
    {
        if (b.Count == 0)
        {
            return;
        }

        int start = _rng.Next(b.Count);
        int i = start;
        while (i < b.Count && !IsEditable(b[i]))
        {
            i++;
        }

        if (i == b.Count)
        {
            return;
        }

        int end = i + 1;
        while (end < b.Count && char.IsAsciiDigit((char)b[i]) && char.IsAsciiDigit((char)b[end]))
        {
            end++;
        }

        string sub = _rng.Next(4) == 0
            ? _rng.NextInt64(-1L << 40, 1L << 40).ToString(CultureInfo.InvariantCulture)
            : s_textSubstitutes[_rng.Next(s_textSubstitutes.Length)];
        b.RemoveRange(i, end - i);
        b.InsertRange(i, Encoding.ASCII.GetBytes(sub));
    }

    private static bool IsEditable(byte c) => char.IsAsciiDigit((char)c) || "{}[]():,\"'".Contains((char)c);

    private static long GetField(List<byte> b, HeaderField f)
    {
        if (f.Offset + f.Size > b.Count)
        {
            return 0;
        }

        byte[] raw = b.GetRange(f.Offset, f.Size).ToArray();
        return (f.Size, f.BigEndian) switch
        {
            (1, _) => raw[0],
            (2, false) => BinaryPrimitives.ReadUInt16LittleEndian(raw),
            (4, true) => BinaryPrimitives.ReadInt32BigEndian(raw),
            (4, false) => BinaryPrimitives.ReadUInt32LittleEndian(raw),
            _ => BinaryPrimitives.ReadInt64LittleEndian(raw),
        };
    }

    private static void SetField(List<byte> b, HeaderField f, long value)
    {
        if (f.Offset + f.Size > b.Count)
        {
            return;
        }

        byte[] raw = new byte[8];
        if (f.BigEndian)
        {
            BinaryPrimitives.WriteInt64BigEndian(raw, value);
            raw = raw[(8 - f.Size)..];
        }
        else
        {
            BinaryPrimitives.WriteInt64LittleEndian(raw, value);
        }

        for (int i = 0; i < f.Size; i++)
        {
            b[f.Offset + i] = raw[i];
        }
    }

    private byte[] RandomBytes(int n)
    {
        byte[] r = new byte[n];
        _rng.NextBytes(r);
        return r;
    }
}
