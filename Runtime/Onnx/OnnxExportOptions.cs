using EMANet.Runtime.Networks;

namespace EMANet.Runtime.Onnx;

/// <summary>What <see cref="OnnxExporter"/> writes.</summary>
/// <param name="DynamicAxes">Leave batch, height and width free (named "batch", "height", "width"); otherwise the graph's
/// input and output are fixed at batch 1 and <paramref name="Input"/>.</param>
/// <param name="Input">The input size of a fixed-size graph (and the size the declaration is checked at); null = the network's own
/// <see cref="ISegmentationNetwork.InputShape"/>. Its channels must be the network's.</param>
public sealed record OnnxExportOptions(bool DynamicAxes = false, TensorShape? Input = null)
{
    /// <summary>Name of the graph input (B x C x H x W float32, normalised as for the network).</summary>
    public const string InputName = "input";

    /// <summary>Name of the graph output (B x classes x H x W float32 logits at the input size).</summary>
    public const string OutputName = "logits";
}
