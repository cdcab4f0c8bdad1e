using CustomNetwork;
using EMANet.Runtime.Networks;
using static TorchSharp.torch;

// Costs are compile-time constants of the generated class.
Console.WriteLine($"{CityscapesEmaNet.NetworkName}: {CityscapesEmaNet.ParameterCount:N0} parameters, " +
                  $"{CityscapesEmaNet.Flops / 1e9:F1} GFLOPs, {CityscapesEmaNet.ActivationBytes / 1048576.0:F0} MiB of activations at 3x513x1025");

// The same engine answers for other input sizes at run time.
var small = CityscapesEmaNet.Descriptor.Analyze(new TensorShape(3, 257, 513));
Console.WriteLine($"at 3x257x513: {small.Flops / 1e9:F1} GFLOPs");

// Build it at a small size and run it.
using var network = new CityscapesEmaNet(classes: 19, input: new TensorShape(3, 129, 257));
network.eval();
using (no_grad())
{
    using var logits = network.forward(randn(1, 3, 129, 257));
    Console.WriteLine($"forward: {string.Join("x", logits.shape)}");
}
network.train();
var (main, auxiliary) = network.ForwardTraining(randn(2, 3, 129, 257));
Console.WriteLine($"training: main {string.Join("x", main.shape)}, auxiliary {string.Join("x", auxiliary!.shape)}");
