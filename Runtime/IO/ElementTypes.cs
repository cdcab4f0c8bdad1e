using static TorchSharp.torch;

namespace EMANet.Runtime.IO;

/// <summary>The element types the readers and writers support, with their names in each format.</summary>
internal static class ElementTypes
{
    private sealed record Entry(ScalarType Type, int Size, string Safetensors, string? NumpyCode, string StorageName);

    // NumpyCode is the descr without its byte-order character (numpy has no bfloat16).
    private static readonly Entry[] Entries =
    {
        new(ScalarType.Float32, 4, "F32", "f4", "FloatStorage"),
        new(ScalarType.Float16, 2, "F16", "f2", "HalfStorage"),
        new(ScalarType.BFloat16, 2, "BF16", null, "BFloat16Storage"),
        new(ScalarType.Float64, 8, "F64", "f8", "DoubleStorage"),
        new(ScalarType.Int64, 8, "I64", "i8", "LongStorage"),
        new(ScalarType.Int32, 4, "I32", "i4", "IntStorage"),
        new(ScalarType.Int16, 2, "I16", "i2", "ShortStorage"),
        new(ScalarType.Int8, 1, "I8", "i1", "CharStorage"),
        new(ScalarType.Byte, 1, "U8", "u1", "ByteStorage"),
        new(ScalarType.Bool, 1, "BOOL", "b1", "BoolStorage"),
    };

    public static bool IsSupported(ScalarType type) => Array.Exists(Entries, e => e.Type == type);

    /// <summary>Bytes per element; throws for a type no format here can hold.</summary>
    public static int SizeOf(ScalarType type) => Find(type).Size;

    public static string SafetensorsName(ScalarType type) => Find(type).Safetensors;

    public static bool TryFromSafetensors(string name, out ScalarType type) =>
        TryFind(e => e.Safetensors == name, out type);

    /// <summary>The numpy type code without byte order ("f4"), or null where numpy has none (bfloat16).</summary>
    public static string? NumpyCode(ScalarType type) => Find(type).NumpyCode;

    public static bool TryFromNumpyCode(string code, out ScalarType type) =>
        TryFind(e => e.NumpyCode == code, out type);

    public static bool TryFromStorageName(string name, out ScalarType type) =>
        TryFind(e => e.StorageName == name, out type);

    public static bool IsStorageName(string name) => Array.Exists(Entries, e => e.StorageName == name);

    private static bool TryFind(Predicate<Entry> match, out ScalarType type)
    {
        var entry = Array.Find(Entries, match);
        type = entry?.Type ?? default;
        return entry is not null;
    }

    private static Entry Find(ScalarType type) =>
        Array.Find(Entries, e => e.Type == type)
        ?? throw new NotSupportedException($"element type {type} is not supported by the weight formats (supported: {string.Join(", ", Entries.Select(e => e.Type))})");
}
