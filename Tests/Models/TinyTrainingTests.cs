using EMANet.Models;
using TorchSharp;
using EMANet.Tests.Training;
using static TorchSharp.torch;

namespace EMANet.Tests.Models;

// Initialisation and dropout draw from torch's global generator: in its collection, so the loss curve is the same on every run.
[Collection(nameof(TorchGlobalState))]
public class TinyTrainingTests
{
    [Fact]
    public void TinyNetwork_LossGoesDown_OverAFewSgdSteps()
    {
        TorchGlobalState.Seed(1);
        using var network = new EmaNetTiny(3, new EMANet.Runtime.Networks.TensorShape(3, 33, 33));
        network.train();
        var optimizer = optim.SGD(network.parameters(), 0.01, momentum: 0.9);
        // A learnable pattern: the label is whether the first channel is positive.
        using var generator = new torch.Generator(1);
        var images = randn(new long[] { 4, 3, 33, 33 }, generator: generator);
        var labels = (images[.., 0] > 0).to(int64);
        var losses = new List<float>();
        for (int step = 0; step < 15; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(network.forward(images), labels, ignore_index: 255);
            loss.backward();
            optimizer.step();
            foreach (var unit in network.EmaUnits) unit.UpdateBases();
            losses.Add(loss.item<float>());
        }
        Assert.True(losses.Skip(10).Average() < 0.8 * losses.Take(3).Average(), string.Join(", ", losses));
    }
}
