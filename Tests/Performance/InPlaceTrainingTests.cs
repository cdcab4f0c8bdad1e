using EMANet.Runtime.Blocks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace EMANet.Tests.Performance;

/// <summary>
/// The training path runs its ReLUs and residual adds in place (on batch-norm outputs, which no
/// backward needs). Gradients must equal those of the out-of-place computation written here.
/// </summary>
public class InPlaceTrainingTests
{
    private static Tensor Leaf(Tensor t) => t.detach().clone().requires_grad_(true);

    [Fact]
    public void Bottleneck_TrainingGradients_MatchOutOfPlaceReference()
    {
        using var block = new Bottleneck(8, 4, 16, stride: 2, dilation: 1, downsample: true);
        block.train();
        using var scope = NewDisposeScope();
        var state = block.state_dict();
        // Weights, BN affine parameters and input from a local generator, not torch's global one (which parallel tests use).
        using var generator = new torch.Generator(21);
        using (no_grad())
        {
            foreach (var (name, tensor) in state)
            {
                if (name.Contains("running_") || name.Contains("num_batches")) continue;
                if (name.Contains("bn") || name.EndsWith("downsample.1.weight") || name.EndsWith("downsample.1.bias"))
                    tensor.uniform_(0.5, 1.5, generator);
                else
                    tensor.normal_(0, 0.3, generator);
            }
        }
        var x = randn(new long[] { 2, 8, 9, 9 }, generator: generator);

        // The block.
        var xa = Leaf(x);
        var ya = block.forward(xa);
        (ya * ya).sum().backward();

        // Out of place, on copies of the same parameters.
        var p = state.Where(kv => !kv.Key.Contains("running_") && !kv.Key.Contains("num_batches")).ToDictionary(kv => kv.Key, kv => Leaf(kv.Value));
        Tensor Bn(Tensor t, string name) => F.batch_norm(t, null, null, p[name + ".weight"], p[name + ".bias"], training: true, momentum: 0.1, eps: 1e-5);
        var xb = Leaf(x);
        var y = F.relu(Bn(F.conv2d(xb, p["conv1.weight"]), "bn1"));
        y = F.relu(Bn(F.conv2d(y, p["conv2.weight"], strides: [2, 2], padding: [1, 1]), "bn2"));
        y = Bn(F.conv2d(y, p["conv3.weight"]), "bn3");
        var identity = Bn(F.conv2d(xb, p["downsample.0.weight"], strides: [2, 2]), "downsample.1");
        var yb = F.relu(y + identity);
        (yb * yb).sum().backward();

        Assert.True(allclose(ya, yb, rtol: 1e-5, atol: 1e-6));
        Assert.True(allclose(xa.grad!, xb.grad!, rtol: 1e-4, atol: 1e-5), "input gradient");
        foreach (var (name, parameter) in block.named_parameters())
            Assert.True(allclose(parameter.grad!, p[name].grad!, rtol: 1e-4, atol: 1e-5), $"gradient of {name}");
    }
}
