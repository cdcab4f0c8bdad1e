using EMANet.Runtime.IO;
using EMANet.Runtime.Networks;
using EMANet.Runtime.Training;
using static TorchSharp.torch;

namespace EMANet.Runtime.Workflows;

/// <summary>
/// Builds a catalogue network and loads weights into it (a training checkpoint also gives the classes and input it was trained with).
/// A checkpoint of another network loads when the two have the same parameter names and shapes, e.g. one of
/// <c>emanet-r101-os16</c> into <c>emanet-r101</c>: trained at output stride 16, which is cheaper, and evaluated
/// at 8 (DeepLabV3's protocol); the log then says so in one line. Otherwise a <see cref="CheckpointException"/> names the
/// first parameter that differs.
/// </summary>
public static class TrainedNetwork
{
    /// <summary>
    /// Builds <paramref name="entry"/> for the classes chosen by <see cref="ClassesChoice"/> (explicit
    /// <paramref name="classes"/>, a checkpoint's, the weights', <paramref name="datasetClasses"/>, the declared) and
    /// loads <paramref name="weights"/>; <paramref name="log"/> receives the classes line and the load summary.
    /// </summary>
    /// <exception cref="ArgumentException">A strict load whose weights say other classes than an explicit choice;
    /// the message suggests <c>--classes N</c>. (A non-strict load builds the asked classes and skips the classifier.)</exception>
    public static SegmentationNetwork Load(NetworkEntry entry, string weights, int? classes = null, WeightsLayout layout = WeightsLayout.Auto, bool strict = true,
        Action<string>? log = null, int? datasetClasses = null)
    {
        if (NetworkWeights.IsTrainingCheckpoint(weights))
        {
            var run = TrainingCheckpoint.Load(weights).Run;
            // A checkpoint of another network (e.g. OS 16 weights evaluated at OS 8) loads when names and shapes agree.
            string? sibling = string.Equals(run.Network, entry.Name, StringComparison.OrdinalIgnoreCase) ? null : run.Network;
            var checkpointChoice = classes is { } given ? new ClassesChoice(given, "from --classes") : new ClassesChoice(run.Classes, "from the checkpoint");
            log?.Invoke(checkpointChoice.ToString());
            var fromCheckpoint = entry.Create(checkpointChoice.Classes, TensorShape.Parse(run.Input));
            try
            {
                LoadInto(fromCheckpoint, () => NetworkWeights.Load(fromCheckpoint, weights, layout, strict), log);
            }
            catch (CheckpointException e) when (sibling is not null)
            {
                throw new CheckpointException(e.Path,
                    $"a checkpoint of '{sibling}' loads into '{entry.Name}' only when both have the same parameter names and shapes: {e.Problem}", e);
            }
            if (sibling is not null) log?.Invoke($"weights of {sibling} loaded into {entry.Name}: same parameter names and shapes");
            return fromCheckpoint;
        }
        if (!File.Exists(weights)) throw new FileNotFoundException($"{weights}: weights file not found", weights);
        using var tensors = WeightsFile.Read(weights);
        var declared = entry.Descriptor.Classes;
        var network = entry.Create(declared);
        (int Classes, string Source)? inFile;
        try
        {
            inFile = ClassesChoice.FromWeights(tensors, weights, network, declared, layout);
        }
        catch
        {
            network.Dispose();
            throw;
        }
        var choice = classes is { } explicitClasses ? new ClassesChoice(explicitClasses, "from --classes")
            : inFile is { } w ? new ClassesChoice(w.Classes, w.Source)
            : datasetClasses is { } d ? new ClassesChoice(d, "from the dataset")
            : new ClassesChoice(declared, "declared by the network");
        if (strict && inFile is { } file && file.Classes != choice.Classes)
        {
            network.Dispose();
            throw new ArgumentException($"{weights}: the weights have {file.Classes} classes ({file.Source}) but {choice.Classes} were asked ({choice.Source}); pass --classes {file.Classes}");
        }
        log?.Invoke(choice.ToString());
        if (choice.Classes != declared)
        {
            network.Dispose();
            network = entry.Create(choice.Classes);
        }
        var built = network;
        return LoadInto(built, () => NetworkWeights.Load(built, tensors, weights, layout, strict), log);
    }

    private static SegmentationNetwork LoadInto(SegmentationNetwork network, Func<string> load, Action<string>? log)
    {
        try
        {
            // Load first, then report: `log?.Invoke(load())` would skip the load itself when there is no log.
            var summary = load();
            log?.Invoke(summary);
            return network;
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }
}
