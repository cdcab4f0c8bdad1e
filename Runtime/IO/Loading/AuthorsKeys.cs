namespace EMANet.Runtime.IO;

/// <summary>
/// The EMANet authors' state-dict names (XiaLiPKU/EMANet, network.py, saved by train.py under "net") to this project's
/// (<see cref="WeightsLayout.Authors"/>). Their EMANet puts the ResNet's children in one Sequential, <c>extractor</c>:
/// <c>extractor.0</c> is the deep stem (conv1, so <c>extractor.0.N.</c> to <c>backbone.conv1.N.</c>), <c>extractor.1</c>
/// bn1, <c>extractor.2</c>/<c>.3</c> ReLU and max-pool (no keys), <c>extractor.4</c>..<c>.7</c> layer1..layer4. Their head
/// is this project's <c>emanet-r*</c> head with one difference: <c>fc1</c> is a Sequential of ConvBNReLU and Dropout2d,
/// so <c>fc1.0.conv</c>/<c>fc1.0.bn</c> become <c>fc1.conv</c>/<c>fc1.bn</c>. <c>fc0</c>, <c>emau.conv1</c>,
/// <c>emau.conv2.0/1</c>, <c>emau.mu</c> and <c>fc2</c> keep their names.
/// </summary>
public static class AuthorsKeys
{
    public const string Extractor = "extractor.";

    private static readonly string[] Stages = { "layer1", "layer2", "layer3", "layer4" };

    /// <summary>Whether a key is the authors' (under <c>extractor.</c>).</summary>
    public static bool IsAuthorsKey(string key) => key.StartsWith(Extractor, StringComparison.Ordinal);

    /// <summary>This project's key for one of the authors' keys (see the class summary); others are kept.</summary>
    public static string ToNative(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.StartsWith("fc1.0.", StringComparison.Ordinal)) return "fc1." + key["fc1.0.".Length..];
        if (!key.StartsWith(Extractor, StringComparison.Ordinal)) return key;
        var rest = key[Extractor.Length..];
        int dot = rest.IndexOf('.');
        if (dot <= 0 || !int.TryParse(rest[..dot], out int child)) return key;
        var tail = rest[(dot + 1)..];
        return child switch
        {
            0 => "backbone.conv1." + tail,
            1 => "backbone.bn1." + tail,
            >= 4 and <= 7 => "backbone." + Stages[child - 4] + "." + tail,
            _ => key,
        };
    }
}
