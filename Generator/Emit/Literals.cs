using System.Globalization;
using System.Linq;
using EMANet.Engine;

namespace EMANet.Generator.Emit;

/// <summary>C# literals for values the emitter writes.</summary>
internal static class Literals
{
    public static string String(string value) =>
        "\"" + EscapeControl(value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n").Replace("\r", "\\r")) + "\"";

    /// <summary>
    /// Control characters, the characters C# treats as line breaks (U+0085, U+2028, U+2029) and
    /// surrogates (a lone one cannot be encoded) as \uXXXX escapes, so that a literal or a comment
    /// stays on one line and the source stays valid UTF-8.
    /// </summary>
    public static string EscapeControl(string value)
    {
        var sb = new System.Text.StringBuilder(value.Length);
        foreach (char c in value)
        {
            if (char.IsControl(c) || char.IsSurrogate(c) || c == '\u2028' || c == '\u2029')
                sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            else
                sb.Append(c);
        }
        return sb.ToString();
    }

    public static string Double(double value) =>
        double.IsNaN(value) ? "double.NaN"
        : double.IsPositiveInfinity(value) ? "double.PositiveInfinity"
        : double.IsNegativeInfinity(value) ? "double.NegativeInfinity"
        : value.ToString("R", CultureInfo.InvariantCulture) + "d";

    public static string Bool(bool value) => value ? "true" : "false";

    public static string Long(long value) => value.ToString(CultureInfo.InvariantCulture) + "L";

    public static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Ints(EquatableArray<int> values) =>
        values.Count == 0 ? "new int[0]" : "new int[] { " + string.Join(", ", values.Select(Int)) + " }";

    public static string Strings(EquatableArray<string> values) => "new string[] { " + string.Join(", ", values.Select(String)) + " }";

    /// <summary>1234567 -> "1.23M", for comments.</summary>
    public static string Human(long value)
    {
        if (value >= 1_000_000_000) return (value / 1e9).ToString("0.##", CultureInfo.InvariantCulture) + "G";
        if (value >= 1_000_000) return (value / 1e6).ToString("0.##", CultureInfo.InvariantCulture) + "M";
        if (value >= 1_000) return (value / 1e3).ToString("0.##", CultureInfo.InvariantCulture) + "k";
        return value.ToString(CultureInfo.InvariantCulture);
    }

    public static string Bytes(long value) => (value / (1024.0 * 1024.0)).ToString("0.#", CultureInfo.InvariantCulture) + " MiB";
}
