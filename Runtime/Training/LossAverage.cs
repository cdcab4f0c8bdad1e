using System.Text.Json;
using System.Text.Json.Serialization;

namespace EMANet.Runtime.Training;

/// <summary>
/// What the per-pixel cross-entropy of a batch is divided by. Pixels labelled with the ignore index
/// contribute 0 to the sum in both modes; the modes differ only in the divisor, so they weigh a crop that is
/// mostly padding (a small image at scale 0.5 in a 513x513 crop) differently.
/// </summary>
[JsonConverter(typeof(LossAverageJsonConverter))]
public enum LossAverage
{
    /// <summary>
    /// Sum over the labelled pixels / every pixel of the batch (B x H x W), the recipe's default: the authors'
    /// loss (NLLLoss with reduction 'none' and ignore_index 255, mean over H and W, then over the batch) and
    /// mmsegmentation's CrossEntropyLoss with its default avg_non_ignore=False. Written "all".
    /// </summary>
    All,

    /// <summary>
    /// Sum over the labelled pixels / their number: PyTorch's cross_entropy with reduction 'mean' and an
    /// ignore_index (mmsegmentation's avg_non_ignore=True). Undefined (NaN) for a batch without a labelled
    /// pixel. Written "labelled"; what this project did before the setting existed.
    /// </summary>
    Labelled,
}

/// <summary>Parsing and naming of <see cref="LossAverage"/> ("all", "labelled").</summary>
public static class LossAverages
{
    /// <summary>The lower-case name used on the command line and in run.json.</summary>
    public static string Name(this LossAverage average) => average switch
    {
        LossAverage.All => "all",
        LossAverage.Labelled => "labelled",
        _ => throw new ArgumentOutOfRangeException(nameof(average), average, "not a loss average"),
    };

    /// <summary>"all" or "labelled" (case-insensitive); false for anything else.</summary>
    public static bool TryParse(string? text, out LossAverage average)
    {
        foreach (var candidate in Enum.GetValues<LossAverage>())
            if (string.Equals(text, candidate.Name(), StringComparison.OrdinalIgnoreCase))
            {
                average = candidate;
                return true;
            }
        average = default;
        return false;
    }
}

/// <summary>Writes <see cref="LossAverage"/> as "all" / "labelled" and reads either (case-insensitive).</summary>
internal sealed class LossAverageJsonConverter : JsonConverter<LossAverage>
{
    public override LossAverage Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
        return LossAverages.TryParse(text, out var average)
            ? average
            : throw new JsonException($"lossAverage must be \"all\" or \"labelled\", got {(text is null ? reader.TokenType.ToString() : $"\"{text}\"")}");
    }

    public override void Write(Utf8JsonWriter writer, LossAverage value, JsonSerializerOptions options) => writer.WriteStringValue(value.Name());
}
