using MySegmenter;
using static TorchSharp.torch;

// Costs are compile-time constants of the generated class.
Console.WriteLine($"{StreetNet.NetworkName}: {StreetNet.ParameterCount:N0} parameters, {StreetNet.Flops / 1e9:F2} GFLOPs at 3x97x97");

using var network = new StreetNet();
network.eval();
using (no_grad())
{
    using var image = randn(1, 3, 97, 97);
    using var logits = network.forward(image);
    Console.WriteLine($"forward: {string.Join("x", logits.shape)}");
}
