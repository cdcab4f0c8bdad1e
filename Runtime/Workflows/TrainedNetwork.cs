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
    public static nn.Module<Tensor, Tensor> Load(NetworkEntry entry, string weights, int? classes = null, WeightsLayout layout = WeightsLayout.Auto, bool strict = true, Action<string>? log = null)
    {
        TensorShape? input = null;
        string? sibling = null;   // the network a checkpoint of another network was trained as (e.g. OS 16 weights evaluated at OS 8)
        if (NetworkWeights.IsTrainingCheckpoint(weights))
        {
            var run = TrainingCheckpoint.Load(weights).Run;
            if (!string.Equals(run.Network, entry.Name, StringComparison.OrdinalIgnoreCase)) sibling = run.Network;
            classes ??= run.Classes;
            input = TensorShape.Parse(run.Input);
        }
        var network = entry.Create(classes, input);
        try
        {
            // Load first, then report: `log?.Invoke(Load(...))` would skip the load itself when there is no log.
            var summary = NetworkWeights.Load(network, weights, layout, strict);
            log?.Invoke(summary);
            if (sibling is not null) log?.Invoke($"weights of {sibling} loaded into {entry.Name}: same parameter names and shapes");
            return network;
        }
        catch (CheckpointException e) when (sibling is not null)
        {
            network.Dispose();
            throw new CheckpointException(e.Path,
                $"a checkpoint of '{sibling}' loads into '{entry.Name}' only when both have the same parameter names and shapes: {e.Problem}", e);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }
}
