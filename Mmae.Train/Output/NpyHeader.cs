using System.Globalization;
using Mmae.Train.Data;

namespace Mmae.Train.Output;

/// <summary>Parses the Python dict literal in a .npy header.</summary>
/// <remarks>
/// Accepts exactly what NumPy writes: string keys in single or double quotes, a string
/// 'descr', True/False 'fortran_order', and a tuple of non-negative integers 'shape' (an
/// optional trailing comma and 'L' suffixes from Python 2 included). Any other key is an error,
/// as in NumPy, so a structured dtype cannot slip through as something else.
/// </remarks>
internal sealed class NpyHeader
{
    private readonly string _path;
    private readonly string _text;
    private int _pos;

    private NpyHeader(string path, string text)
    {
        _path = path;
        _text = text;
    }

    /// <summary>Returns descr, fortran_order and shape from <paramref name="text"/>.</summary>
    /// <exception cref="DataFormatException">The text is not such a dict.</exception>
    public static (string Descr, bool Fortran, int[] Shape) Parse(string path, string text)
    {
        return new NpyHeader(path, text).ParseDict();
    }

    private (string Descr, bool Fortran, int[] Shape) ParseDict()
    {
        string? descr = null;
        bool? fortran = null;
        int[]? shape = null;
        Expect('{');
        while (true)
        {
            SkipSpaces();
            if (Peek() == '}')
            {
                _pos++;
                break;
            }

            string key = ReadString();
            Expect(':');
            switch (key)
            {
                case "descr":
                    SkipSpaces();
                    descr = Peek() is '\'' or '"'
                        ? ReadString()
                        : throw Fail("'descr' is not a simple string (structured dtype?)");
                    break;
                case "fortran_order":
                    fortran = ReadBool();
                    break;
                case "shape":
                    shape = ReadShape();
                    break;
                default:
                    throw Fail($"unexpected header key '{key}'");
            }

            SkipSpaces();
            if (Peek() == ',')
            {
                _pos++;
            }
            else if (Peek() != '}')
            {
                throw Fail($"expected ',' or '}}' at header offset {_pos}");
            }
        }

        if (descr is null || fortran is null || shape is null)
        {
            throw Fail("header lacks one of 'descr', 'fortran_order', 'shape'");
        }

        return (descr, fortran.Value, shape);
    }

    private int[] ReadShape()
    {
        Expect('(');
        var dims = new List<int>();
        while (true)
        {
            SkipSpaces();
            if (Peek() == ')')
            {
                _pos++;
                return dims.ToArray();
            }

            int start = _pos;
            while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos]))
            {
                _pos++;
            }

            if (!int.TryParse(_text.AsSpan(start, _pos - start), NumberStyles.None,
                CultureInfo.InvariantCulture, out int dim))
            {
                throw Fail($"shape entry at header offset {start} is not an integer "
                    + "in 0..2147483647");
            }

            dims.Add(dim);
            if (Peek() == 'L')
            {
                _pos++;
            }

            SkipSpaces();
            if (Peek() == ',')
            {
                _pos++;
            }
            else if (Peek() != ')')
            {
                throw Fail($"expected ',' or ')' in shape at header offset {_pos}");
            }
        }
    }

    private bool ReadBool()
    {
        SkipSpaces();
        foreach ((string word, bool value) in new[] { ("True", true), ("False", false) })
        {
            if (string.CompareOrdinal(_text, _pos, word, 0, word.Length) == 0)
            {
                _pos += word.Length;
                return value;
            }
        }

        throw Fail("'fortran_order' is neither True nor False");
    }

    private string ReadString()
    {
        SkipSpaces();
        char quote = Peek();
        if (quote is not ('\'' or '"'))
        {
            throw Fail($"expected a quoted key or value at header offset {_pos}");
        }

        int end = _text.IndexOf(quote, _pos + 1);
        if (end < 0)
        {
            throw Fail("unterminated string in header");
        }

        string value = _text.Substring(_pos + 1, end - _pos - 1);
        _pos = end + 1;
        return value;
    }

    private void Expect(char c)
    {
        SkipSpaces();
        if (Peek() != c)
        {
            throw Fail($"expected '{c}' at header offset {_pos}");
        }

        _pos++;
    }

    private void SkipSpaces()
    {
        while (_pos < _text.Length && char.IsWhiteSpace(_text[_pos]))
        {
            _pos++;
        }
    }

    private char Peek() => _pos < _text.Length ? _text[_pos] : '\0';

    private DataFormatException Fail(string problem) =>
        new(_path, $"malformed .npy header: {problem}");
}
