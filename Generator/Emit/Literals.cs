using System.Globalization;
using System.Linq;
using EMANet.Engine;

namespace EMANet.Generator.Emit;

/// <summary>C# literals for values the emitter writes.</summary>
internal static class Literals
{
    public static string String(string value) =>
        "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n").Replace("\r", "\\r") + "\"";

    public static string Double(double value) =>
        double.IsNaN(value) ? "double.NaN"
        : double.IsPositiveInfinity(value) ? "double.PositiveInfinity"
        : double.IsNegativeInfinity(value) ? "double.NegativeInfinity"
        : value.ToString("R", CultureInfo.InvariantCulture) + "d";

    public static string Bool(bool value) => value ? "true" : "false";

    public static string Long(long value) => value.ToString(CultureInfo.InvariantCulture) + "L";

    public static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Ints(EquatableArray<int> values) => "new int[] { " + string.Join(", ", values.Select(Int)) + " }";

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
