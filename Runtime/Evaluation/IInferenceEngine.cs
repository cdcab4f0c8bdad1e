using static TorchSharp.torch;

namespace EMANet.Runtime.Evaluation;

/// <summary>
/// What computes a network's logits for a batch: the network's own TorchSharp forward, or another engine running
/// the same network (ONNX Runtime on its exported graph, <see cref="Onnx.OnnxRuntimeEngine"/>). Prediction and
/// evaluation take one, so an engine plugs in where logits are computed and everything around it (padding,
/// sliding windows, argmax, metrics, files) is the one path.
/// </summary>
public interface IInferenceEngine
{
    /// <summary>Float32 logits B x K x H x W for the normalised batch <paramref name="images"/> B x C x H x W (on the engine's device).</summary>
    Tensor Logits(Tensor images);

    /// <summary>One line for logs, e.g. "ONNX Runtime 1.31.1, 2 threads, graph optimisation all".</summary>
    string Description { get; }
}

/// <summary>The network's own forward (<c>Networks.InferenceExtensions.Predict</c>: float32 logits whatever its precision).</summary>
public sealed class TorchInferenceEngine(nn.Module<Tensor, Tensor> network) : IInferenceEngine
{
    public Tensor Logits(Tensor images) => Networks.InferenceExtensions.Predict(network, images);

    public string Description => "TorchSharp";
}
