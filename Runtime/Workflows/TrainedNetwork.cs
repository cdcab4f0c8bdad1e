using EMANet.Runtime.IO;
using EMANet.Runtime.Networks;
using EMANet.Runtime.Training;
using static TorchSharp.torch;

namespace EMANet.Runtime.Workflows;

/// <summary>Builds a catalogue network and loads weights into it (a training checkpoint also gives the classes and input it was trained with).</summary>
public static class TrainedNetwork
{
    public static nn.Module<Tensor, Tensor> Load(NetworkEntry entry, string weights, int? classes = null, WeightsLayout layout = WeightsLayout.Auto, bool strict = true, Action<string>? log = null)
    {
        TensorShape? input = null;
        if (NetworkWeights.IsTrainingCheckpoint(weights))
        {
            var run = TrainingCheckpoint.Load(weights).Run;
            if (!string.Equals(run.Network, entry.Name, StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"{weights}: a checkpoint of '{run.Network}', not of '{entry.Name}'");
            classes ??= run.Classes;
            input = TensorShape.Parse(run.Input);
        }
        var network = entry.Create(classes, input);
        try
        {
            // Load first, then report: `log?.Invoke(Load(...))` would skip the load itself when there is no log.
            var summary = NetworkWeights.Load(network, weights, layout, strict);
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
