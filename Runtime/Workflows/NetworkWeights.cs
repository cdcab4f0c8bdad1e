using System.IO.Compression;
using EMANet.Runtime.IO;
using EMANet.Runtime.Training;
using static TorchSharp.torch;

namespace EMANet.Runtime.Workflows;

/// <summary>
/// Loads weights into a network from any file the project reads: a training checkpoint (.ckpt),
/// a PyTorch state dict (.pth/.pt, zip format) or a .safetensors file, with PyTorch's strict
/// semantics for the latter two (see <see cref="StateDictLoader"/>).
/// </summary>
public static class NetworkWeights
{
    /// <summary>True when <paramref name="path"/> is this project's training checkpoint (a zip with a manifest).</summary>
    public static bool IsTrainingCheckpoint(string path)
    {
        if (WeightsFormatDetector.Detect(path) != WeightsFormat.PyTorchZip) return false;
        try
        {
            using var zip = ZipFile.OpenRead(path);
            return zip.GetEntry("manifest.json") is not null;
        }
        catch (InvalidDataException)
        {
            return false;
        }
    }

    /// <summary>Loads <paramref name="path"/> into <paramref name="network"/>; returns a one-line summary of what was loaded.</summary>
    public static string Load(nn.Module network, string path, WeightsLayout layout = WeightsLayout.Auto, bool strict = true)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: weights file not found", path);
        if (IsTrainingCheckpoint(path))
        {
            var checkpoint = TrainingCheckpoint.Load(path);
            checkpoint.RestoreModel(network);
            return $"{path}: training checkpoint of '{checkpoint.Run.Network}' at iteration {checkpoint.Iteration}";
        }
        using var tensors = WeightsFile.Read(path);
        return Load(network, tensors, path, layout, strict);
    }

    /// <summary>Loads <paramref name="tensors"/> (read from <paramref name="path"/>, named in the summary) into <paramref name="network"/>.</summary>
    public static string Load(nn.Module network, TensorDictionary tensors, string path, WeightsLayout layout = WeightsLayout.Auto, bool strict = true)
    {
        var report = StateDictLoader.Load(network, tensors, layout, strict);
        var summary = $"{path}: {report.Loaded.Count} tensors loaded ({report.Mapping.Description})";
        if (!strict && !report.IsComplete) summary += "; " + report.DescribeProblems();
        return summary;
    }

    /// <summary>
    /// Converts <paramref name="input"/> (.ckpt, .pth/.pt or .safetensors) to a .safetensors file
    /// with this project's parameter names. A training checkpoint is restored into the network it
    /// names (found in <paramref name="networks"/>) and that network's state dict is written, with
    /// "network", "classes" and "iteration" metadata. A state dict saved from nn.DataParallel/DistributedDataParallel
    /// loses its "module." prefix (the rule of <see cref="KeyMapping.DataParallelPrefixOf"/>, which the
    /// loader applies too); other names are kept (a ResNet backbone file keeps its torchvision/deep-stem
    /// names, which the loader recognises). A .safetensors input's metadata is kept.
    /// </summary>
    public static int ConvertToSafetensors(string input, string output, IReadOnlyList<EMANet.Runtime.Networks.NetworkEntry> networks)
    {
        if (!output.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"{output}: only .safetensors can be written (writing PyTorch pickles is not supported); name the output *.safetensors");
        if (IsTrainingCheckpoint(input))
        {
            var checkpoint = TrainingCheckpoint.Load(input);
            var entry = EMANet.Runtime.Networks.NetworkCatalog.Find(networks, checkpoint.Run.Network);
            using var network = entry.Create(checkpoint.Run.Classes, EMANet.Runtime.Networks.TensorShape.Parse(checkpoint.Run.Input));
            checkpoint.RestoreModel(network);
            var state = network.state_dict();
            WeightsFile.Write(output, state, new Dictionary<string, string> { ["network"] = entry.Name, [ClassesChoice.MetadataKey] = checkpoint.Run.Classes.ToString(System.Globalization.CultureInfo.InvariantCulture), ["iteration"] = checkpoint.Iteration.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            return state.Count;
        }
        using var tensors = WeightsFile.Read(input);
        var prefix = KeyMapping.DataParallelPrefixOf(tensors.Keys.ToList());
        var renamed = tensors.Select(p => new KeyValuePair<string, Tensor>(p.Key[prefix.Length..], p.Value));
        WeightsFile.Write(output, renamed, tensors.Metadata.Count > 0 ? tensors.Metadata : null);
        return tensors.Count;
    }
}
