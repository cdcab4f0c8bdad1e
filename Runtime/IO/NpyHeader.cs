using System.Globalization;
using System.Text;
using static TorchSharp.torch;

namespace EMANet.Runtime.IO;

/// <summary>The array description of a .npy header: element type, byte order, layout and shape.</summary>
internal sealed record NpyHeader(ScalarType Type, bool LittleEndian, bool FortranOrder, long[] Shape)
{
    /// <summary>
    /// Parses the header's Python dict literal, e.g. <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (2, 3), }</c>,
    /// with a small literal reader (strings, booleans, integers, tuples): nothing is evaluated.
    /// Returns null and a reason when the text is not such a header.
    /// </summary>
    public static NpyHeader? TryParse(string text, out string reason)
    {
        var parser = new LiteralParser(text);
        Dictionary<string, object> dict;
        try
        {
            dict = parser.ParseHeaderDict();
        }
        catch (FormatException e)
        {
            reason = e.Message;
            return null;
        }

        foreach (var key in dict.Keys)
            if (key is not ("descr" or "fortran_order" or "shape")) { reason = $"unexpected header key '{key}'"; return null; }
        if (!dict.TryGetValue("descr", out var descrValue) || descrValue is not string descr)
        { reason = "the header has no string 'descr' (structured arrays are not supported)"; return null; }
        if (!dict.TryGetValue("fortran_order", out var orderValue) || orderValue is not bool fortran)
        { reason = "the header has no boolean 'fortran_order'"; return null; }
        if (!dict.TryGetValue("shape", out var shapeValue) || shapeValue is not long[] shape)
        { reason = "the header has no integer tuple 'shape'"; return null; }
        if (descr.Length < 2) { reason = $"descr '{descr}' is not a numpy type"; return null; }

        if (descr[0] is not ('<' or '>' or '|' or '='))
        { reason = $"descr '{descr}' has no byte-order character"; return null; }
        bool little = descr[0] switch { '<' => true, '>' => false, _ => BitConverter.IsLittleEndian };
        if (!ElementTypes.TryFromNumpyCode(descr[1..], out var type))
        { reason = $"unsupported descr '{descr}' (supported: f2, f4, f8, i1, i2, i4, i8, u1, b1)"; return null; }
        reason = "";
        return new NpyHeader(type, little, fortran, shape);
    }

    /// <summary>The dict literal numpy writes for this header (C order, little-endian), unpadded.</summary>
    public string Format()
    {
        var code = ElementTypes.NumpyCode(Type) ?? throw new NotSupportedException($"numpy has no {Type} type");
        char order = ElementTypes.SizeOf(Type) == 1 ? '|' : '<';
        string shape = Shape.Length == 1
            ? $"({Shape[0]},)"
            : "(" + string.Join(", ", Shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")";
        return $"{{'descr': '{order}{code}', 'fortran_order': {(FortranOrder ? "True" : "False")}, 'shape': {shape}, }}";
    }

    /// <summary>A reader for the Python literals a .npy header may hold.</summary>
    private sealed class LiteralParser(string text)
    {
        private int _pos;

        public Dictionary<string, object> ParseHeaderDict()
        {
            SkipSpace();
            Expect('{');
            var dict = new Dictionary<string, object>(StringComparer.Ordinal);
            while (true)
            {
                SkipSpace();
                if (TryTake('}')) break;
                var key = ParseString();
                SkipSpace();
                Expect(':');
                SkipSpace();
                var value = ParseValue();
                if (!dict.TryAdd(key, value)) throw new FormatException($"header key '{key}' appears twice");
                SkipSpace();
                if (TryTake('}')) break;
                Expect(',');
            }
            SkipSpace();
            if (_pos != text.Length) throw new FormatException($"unexpected text after the header dict at character {_pos}");
            return dict;
        }

        private object ParseValue()
        {
            if (_pos >= text.Length) throw new FormatException("the header ends inside a value");
            char c = text[_pos];
            if (c is '\'' or '"') return ParseString();
            if (c == '(') return ParseTuple();
            if (Match("True")) return true;
            if (Match("False")) return false;
            throw new FormatException($"unsupported value at character {_pos} of the header");
        }

        private long[] ParseTuple()
        {
            Expect('(');
            var items = new List<long>();
            while (true)
            {
                SkipSpace();
                if (TryTake(')')) break;
                items.Add(ParseInteger());
                SkipSpace();
                if (TryTake(')')) break;
                Expect(',');
            }
            return items.ToArray();
        }

        private long ParseInteger()
        {
            int start = _pos;
            while (_pos < text.Length && char.IsAsciiDigit(text[_pos])) _pos++;
            if (_pos == start) throw new FormatException($"expected a non-negative integer at character {start} of the header");
            if (text[start] == '0' && _pos - start > 1) throw new FormatException($"integer {text[start.._pos]} has a leading zero, which Python does not allow");
            if (!long.TryParse(text.AsSpan(start, _pos - start), NumberStyles.None, CultureInfo.InvariantCulture, out var value))
                throw new FormatException($"dimension {text[start.._pos]} does not fit 64 bits");
            if (_pos < text.Length && text[_pos] == 'L') _pos++; // Python 2 long suffix
            return value;
        }

        private string ParseString()
        {
            if (_pos >= text.Length || text[_pos] is not ('\'' or '"')) throw new FormatException($"expected a quoted string at character {_pos} of the header");
            char quote = text[_pos++];
            var sb = new StringBuilder();
            while (true)
            {
                if (_pos >= text.Length) throw new FormatException("the header ends inside a string");
                char c = text[_pos++];
                if (c == quote) return sb.ToString();
                if (c == '\\') throw new FormatException("escape sequences are not supported in header strings");
                sb.Append(c);
            }
        }

        private bool Match(string word)
        {
            if (string.CompareOrdinal(text, _pos, word, 0, word.Length) != 0) return false;
            _pos += word.Length;
            return true;
        }

        private void SkipSpace()
        {
            while (_pos < text.Length && text[_pos] is ' ' or '\t' or '\n' or '\r') _pos++;
        }

        private bool TryTake(char c)
        {
            if (_pos < text.Length && text[_pos] == c) { _pos++; return true; }
            return false;
        }

        private void Expect(char c)
        {
            if (!TryTake(c)) throw new FormatException($"expected '{c}' at character {_pos} of the header");
        }
    }
}
