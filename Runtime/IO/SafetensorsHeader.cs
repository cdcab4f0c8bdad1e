using System.Text.Encodings.Web;
using System.Text.Unicode;
using System.Text.Json;
using static TorchSharp.torch;

namespace EMANet.Runtime.IO;

/// <summary>One tensor's entry of a safetensors header; offsets are relative to the data section.</summary>
internal sealed record SafetensorsEntry(string Name, ScalarType Type, long[] Shape, long Begin, long End)
{
    public long ByteLength => End - Begin;
}

/// <summary>
/// Parses and validates a safetensors header: every entry well-formed, every dtype known, every
/// byte count equal to its offsets' span, and the spans tiling the data section exactly (no gap,
/// no overlap, nothing left over).
/// </summary>
internal static class SafetensorsHeader
{
    /// <summary>The same cap the reference implementation puts on the JSON header.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public const string MetadataKey = "__metadata__";

    /// <summary>Entries in header order, and the metadata (empty when absent).</summary>
    public static (List<SafetensorsEntry> Entries, Dictionary<string, string> Metadata) Parse(
        ReadOnlyMemory<byte> json, long dataLength, string file)
    {
        WeightsFormatException Defect(string what) => new(file, what);

        if (json.Length == 0 || json.Span[0] != (byte)'{')
            throw Defect("the header does not start with '{' (not a safetensors file?)");

        if (!Utf8.IsValid(json.Span)) throw Defect("the header is not valid UTF-8");

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw new WeightsFormatException(file, $"the header is not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw Defect("the header is not a JSON object");

            var entries = new List<SafetensorsEntry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
            {
                if (!seen.Add(property.Name)) throw Defect($"the header names '{property.Name}' twice");
                if (property.Name == MetadataKey) ReadMetadata(property.Value, metadata, Defect);
                else entries.Add(ReadEntry(property.Name, property.Value, Defect));
            }
            CheckTiling(entries, dataLength, Defect);
            return (entries, metadata);
        }
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, Func<string, WeightsFormatException> defect)
    {
        if (value.ValueKind != JsonValueKind.Object) throw defect($"'{MetadataKey}' is not a JSON object");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw defect($"'{MetadataKey}' entry '{item.Name}' is not a string");
            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
                throw defect($"'{MetadataKey}' names '{item.Name}' twice");
        }
    }

    private static SafetensorsEntry ReadEntry(string name, JsonElement value, Func<string, WeightsFormatException> defect)
    {
        if (name.Length == 0) throw defect("a tensor has an empty name");
        if (value.ValueKind != JsonValueKind.Object) throw defect($"tensor '{name}': its entry is not a JSON object");

        string? dtypeName = null;
        long[]? shape = null, offsets = null;
        foreach (var field in value.EnumerateObject())
        {
            switch (field.Name)
            {
                case "dtype" when dtypeName is null:
                    if (field.Value.ValueKind != JsonValueKind.String) throw defect($"tensor '{name}': dtype is not a string");
                    dtypeName = field.Value.GetString()!;
                    break;
                case "shape" when shape is null:
                    shape = ReadIntegers(field.Value, name, "shape", defect);
                    break;
                case "data_offsets" when offsets is null:
                    offsets = ReadIntegers(field.Value, name, "data_offsets", defect);
                    break;
                case "dtype" or "shape" or "data_offsets":
                    throw defect($"tensor '{name}': field '{field.Name}' appears twice");
                default:
                    throw defect($"tensor '{name}': unknown field '{field.Name}'");
            }
        }
        if (dtypeName is null) throw defect($"tensor '{name}': no dtype");
        if (shape is null) throw defect($"tensor '{name}': no shape");
        if (offsets is null) throw defect($"tensor '{name}': no data_offsets");
        if (!ElementTypes.TryFromSafetensors(dtypeName, out var type))
            throw defect($"tensor '{name}': unsupported dtype '{dtypeName}' (supported: F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL)");
        if (offsets.Length != 2) throw defect($"tensor '{name}': data_offsets has {offsets.Length} numbers, not 2");
        long begin = offsets[0], end = offsets[1];
        if (end < begin) throw defect($"tensor '{name}': data_offsets [{begin}, {end}] end before they begin");

        var elements = TensorBytes.ElementCount(shape);
        var bytes = elements is { } n ? TensorBytes.ByteCount(n, type) : null;
        if (bytes != end - begin)
            throw defect($"tensor '{name}': data_offsets [{begin}, {end}] span {end - begin} bytes but {dtypeName} {Show(shape)} needs {(bytes is { } b ? b.ToString() : "more than 2^63")}");
        return new SafetensorsEntry(name, type, shape, begin, end);
    }

    private static long[] ReadIntegers(JsonElement value, string name, string field, Func<string, WeightsFormatException> defect)
    {
        if (value.ValueKind != JsonValueKind.Array) throw defect($"tensor '{name}': {field} is not a JSON array");
        var result = new long[value.GetArrayLength()];
        int i = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var v) || v < 0)
                throw defect($"tensor '{name}': {field}[{i}] = {item.GetRawText()} is not a non-negative 64-bit integer");
            result[i++] = v;
        }
        return result;
    }

    /// <summary>Sorted by offset, the spans must run 0 .. dataLength without gap or overlap.</summary>
    private static void CheckTiling(List<SafetensorsEntry> entries, long dataLength, Func<string, WeightsFormatException> defect)
    {
        var sorted = entries.OrderBy(e => e.Begin).ThenBy(e => e.End).ToList();
        long expected = 0;
        SafetensorsEntry? previous = null;
        foreach (var e in sorted)
        {
            if (e.Begin < expected)
                throw defect($"tensor '{e.Name}' (data_offsets [{e.Begin}, {e.End}]) overlaps tensor '{previous!.Name}' (data_offsets [{previous.Begin}, {previous.End}])");
            if (e.Begin > expected)
                throw defect($"bytes {expected}..{e.Begin} of the data section belong to no tensor (gap before '{e.Name}')");
            if (e.End > dataLength)
                throw defect($"tensor '{e.Name}': data_offsets [{e.Begin}, {e.End}] run past the data section ({dataLength} bytes)");
            expected = e.End;
            previous = e;
        }
        if (expected != dataLength)
            throw defect($"the data section has {dataLength} bytes but the tensors cover {expected}");
    }

    public static string Show(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";

    /// <summary>The header JSON for entries laid out back to back, space-padded to a multiple of 8 bytes.</summary>
    public static byte[] Format(IReadOnlyList<SafetensorsEntry> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                writer.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata) writer.WriteString(key, value);
                writer.WriteEndObject();
            }
            foreach (var e in entries)
            {
                writer.WriteStartObject(e.Name);
                writer.WriteString("dtype", ElementTypes.SafetensorsName(e.Type));
                writer.WriteStartArray("shape");
                foreach (var d in e.Shape) writer.WriteNumberValue(d);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(e.Begin);
                writer.WriteNumberValue(e.End);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        int padding = (int)(-buffer.Length & 7);
        for (int i = 0; i < padding; i++) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }
}
