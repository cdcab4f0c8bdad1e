using EMANet.Engine;
using EMANet.Runtime.IO;
using EMANet.Runtime.Networks;
using static TorchSharp.torch;

namespace EMANet.Runtime.Workflows;

/// <summary>
/// The number of classes a network is built with when loading weights, and where it came from. Order: the caller's
/// explicit value (<c>--classes</c>), a training checkpoint's run, the weights file (its "classes" metadata, written
/// by <c>emanet convert</c>, else its classifier's out-channels), the dataset, the network's declaration.
/// </summary>
public sealed record ClassesChoice(int Classes, string Source)
{
    /// <summary>"metadata" key that <see cref="NetworkWeights.ConvertToSafetensors"/> writes and this reader trusts.</summary>
    public const string MetadataKey = "classes";

    /// <summary>One line for the log: "classes: 6 (from the weights' classifier out-channels)".</summary>
    public override string ToString() => $"classes: {Classes} ({Source})";

    /// <summary>
    /// The classes a weights file says it was trained for, or null when it does not say: the "classes" metadata, else
    /// the out-channels of the classifier — the module's last 4-D weight whose out-channels equal the declared classes
    /// (<paramref name="declared"/>, built with the declaration), found in the file under the loader's key mapping.
    /// </summary>
    /// <exception cref="WeightsFormatException">A "classes" metadata entry that is not a positive integer.</exception>
    public static (int Classes, string Source)? FromWeights(TensorDictionary tensors, string path, nn.Module declared, int declaredClasses, WeightsLayout layout)
    {
        if (tensors.Metadata.TryGetValue(MetadataKey, out var text))
        {
            if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var fromMetadata) || fromMetadata < 1)
                throw new WeightsFormatException(path, $"metadata \"{MetadataKey}\" is '{text}', not a positive integer");
            return (fromMetadata, "from the weights' metadata");
        }
        var classifier = ClassifierKey(declared, declaredClasses);
        if (classifier is null) return null;
        var mapping = KeyMapping.Create(layout, tensors.Keys.ToList());
        foreach (var (key, tensor) in tensors)
        {
            if (mapping.Map(key) == classifier && tensor.dim() == 4)
                return ((int)tensor.shape[0], $"from the weights' classifier {key} out-channels");
        }
        return null;
    }

    /// <summary>
    /// The last 4-D weight of <paramref name="module"/> whose out-channels equal <paramref name="classes"/>, or null; in a
    /// generated network, not an auxiliary classifier's (declared after the main output, it would otherwise be named).
    /// </summary>
    public static string? ClassifierKey(nn.Module module, int classes)
    {
        var auxiliary = module is ISegmentationNetwork network
            ? network.Descriptor.Declaration.Layers.Where(l => l.IsAuxiliaryClassifier).Select(l => l.Name + ".").ToArray()
            : [];
        string? found = null;
        foreach (var (name, parameter) in module.named_parameters())
        {
            if (auxiliary.Any(prefix => name.StartsWith(prefix, StringComparison.Ordinal))) continue;
            if (name.EndsWith("weight", StringComparison.Ordinal) && parameter.dim() == 4 && parameter.shape[0] == classes)
                found = name;
        }
        return found;
    }
}
