using System.Globalization;
using System.Text;
using System.Text.Json;
using EMANet.Engine;
using EMANet.Runtime.Networks;

namespace EMANet.Runtime.Reports;

/// <summary>
/// The cost table of a network (every operation of one forward pass at batch 1: output shape,
/// parameters, multiply-accumulates, FLOPs by the paper's rules, float32 output bytes) as a
/// human-readable table or as one JSON object. Totals are those of the inference path; rows of
/// auxiliary heads are listed, flagged, and left out of the totals.
/// </summary>
public static class CostReport
{
    /// <summary>Analyses <paramref name="entry"/> at the given input and classes (defaults: declared); a declaration that cannot take them throws <see cref="ArgumentException"/> with the engine's findings.</summary>
    public static NetworkAnalysis Analyze(NetworkEntry entry, TensorShape? input = null, int? classes = null)
    {
        if (classes is <= 0) throw new ArgumentException($"--classes must be positive, got {classes}");
        var analysis = entry.Descriptor.Analyze(input, classes);
        var errors = analysis.Findings.Where(f => f.Severity == FindingSeverity.Error).ToArray();
        if (errors.Length > 0)
            throw new ArgumentException(
                $"network '{entry.Name}' cannot take input {input ?? entry.Descriptor.InputShape} with {classes ?? entry.Descriptor.Classes} classes: " +
                string.Join("; ", errors.Select(e => $"{e.Id} {e.Message}")));
        return analysis;
    }

    /// <summary>The per-layer table with a totals line at the end.</summary>
    public static string FormatTable(string network, NetworkAnalysis analysis)
    {
        var rows = analysis.Layers;
        var nameWidth = Math.Max("layer".Length, rows.Count == 0 ? 0 : rows.Max(r => r.Name.Length + (r.Auxiliary ? 6 : 0)));
        var kindWidth = Math.Max("kind".Length, rows.Count == 0 ? 0 : rows.Max(r => r.Kind.Length));
        var builder = new StringBuilder();
        builder.Append(CultureInfo.InvariantCulture,
            $"{network}: input {analysis.Input}, {analysis.Classes} classes, batch 1 (FLOPs by the paper's rules: conv k*k*Cin*Cout*H*W (+bias), BN 2/element, ReLU 1/element)\n\n");
        string Line(string name, string kind, string output, string parameters, string macs, string flops, string memory) =>
            $"{name.PadRight(nameWidth)}  {kind.PadRight(kindWidth)}  {output,-14} {parameters,10} {macs,10} {flops,10} {memory,12}\n";
        builder.Append(Line("layer", "kind", "output", "params", "MACs", "FLOPs", "memory"));
        builder.Append(new string('-', nameWidth + kindWidth + 4 + 15 + 11 * 3 + 13)).Append('\n');
        foreach (var r in rows)
            builder.Append(Line(r.Name + (r.Auxiliary ? " (aux)" : ""), r.Kind, r.Output.ToString(), Count(r.Parameters), Count(r.Macs), Count(r.Flops), Mebibytes(r.MemoryBytes)));
        builder.Append(new string('-', nameWidth + kindWidth + 4 + 15 + 11 * 3 + 13)).Append('\n');
        builder.Append(Line("total", "", analysis.Output?.ToString() ?? "", Count(analysis.Parameters), Count(analysis.Macs), Count(analysis.Flops), Mebibytes(analysis.MemoryBytes)));
        if (rows.Any(r => r.Auxiliary))
            builder.Append(CultureInfo.InvariantCulture,
                $"(auxiliary heads, training only, not in the total: {Count(rows.Where(r => r.Auxiliary).Sum(r => r.Parameters))} params, {Count(rows.Where(r => r.Auxiliary).Sum(r => r.Flops))} FLOPs)\n");
        builder.Append(CultureInfo.InvariantCulture,
            $"\ntotal: {Count(analysis.Parameters)} parameters ({analysis.Parameters:N0}), {Giga(analysis.Macs)} GMACs, {Giga(analysis.Flops)} GFLOPs, {Mebibytes(analysis.MemoryBytes)} of activations\n");
        return builder.ToString();
    }

    /// <summary>
    /// One JSON object: {"network","input":[C,H,W],"classes","params","macs","flops","memory_bytes",
    /// "layers":[{"name","kind","output":[C,H,W],"params","macs","flops","memory_bytes","auxiliary"}]}.
    /// </summary>
    public static string ToJson(string network, NetworkAnalysis analysis, bool indented = false)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented }))
        {
            json.WriteStartObject();
            json.WriteString("network", network);
            WriteShape(json, "input", analysis.Input);
            json.WriteNumber("classes", analysis.Classes);
            json.WriteNumber("params", analysis.Parameters);
            json.WriteNumber("macs", analysis.Macs);
            json.WriteNumber("flops", analysis.Flops);
            json.WriteNumber("memory_bytes", analysis.MemoryBytes);
            json.WriteStartArray("layers");
            foreach (var r in analysis.Layers)
            {
                json.WriteStartObject();
                json.WriteString("name", r.Name);
                json.WriteString("kind", r.Kind);
                WriteShape(json, "output", r.Output);
                json.WriteNumber("params", r.Parameters);
                json.WriteNumber("macs", r.Macs);
                json.WriteNumber("flops", r.Flops);
                json.WriteNumber("memory_bytes", r.MemoryBytes);
                json.WriteBoolean("auxiliary", r.Auxiliary);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Every network of a catalogue: declared input, classes, parameters, GFLOPs and activation memory at batch 1.</summary>
    public static string FormatCatalog(IReadOnlyList<NetworkEntry> entries)
    {
        var nameWidth = Math.Max("network".Length, entries.Count == 0 ? 0 : entries.Max(e => e.Name.Length));
        var builder = new StringBuilder();
        string Line(string name, string input, string classes, string parameters, string flops, string memory) =>
            $"{name.PadRight(nameWidth)}  {input,-11} {classes,7} {parameters,10} {flops,10} {memory,14}\n";
        builder.Append(Line("network", "input", "classes", "params", "GFLOPs", "activations"));
        foreach (var e in entries)
        {
            var d = e.Descriptor;
            builder.Append(Line(e.Name, d.InputShape.ToString(), d.Classes.ToString(CultureInfo.InvariantCulture),
                Count(d.ParameterCount), Giga(d.Flops), Mebibytes(d.ActivationBytes)));
        }
        builder.Append(CultureInfo.InvariantCulture, $"{entries.Count} networks; costs at the declared input, batch 1 (emanet cost <network> for the per-layer table)\n");
        return builder.ToString();
    }

    /// <summary>1234567 -> "1.23M".</summary>
    public static string Count(long value) => value switch
    {
        >= 1_000_000_000 => (value / 1e9).ToString("0.00", CultureInfo.InvariantCulture) + "G",
        >= 1_000_000 => (value / 1e6).ToString("0.00", CultureInfo.InvariantCulture) + "M",
        >= 1_000 => (value / 1e3).ToString("0.00", CultureInfo.InvariantCulture) + "k",
        _ => value.ToString(CultureInfo.InvariantCulture),
    };

    public static string Giga(long value) => (value / 1e9).ToString("0.00", CultureInfo.InvariantCulture);

    public static string Mebibytes(long bytes) => (bytes / (1024.0 * 1024.0)).ToString("0.00", CultureInfo.InvariantCulture) + " MiB";

    private static void WriteShape(Utf8JsonWriter json, string name, FeatureShape shape)
    {
        json.WriteStartArray(name);
        json.WriteNumberValue(shape.Channels);
        json.WriteNumberValue(shape.Height);
        json.WriteNumberValue(shape.Width);
        json.WriteEndArray();
    }
}
