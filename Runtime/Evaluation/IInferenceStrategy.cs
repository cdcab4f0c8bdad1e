using static TorchSharp.torch;

namespace EMANet.Runtime.Evaluation;

/// <summary>
/// How to turn a network into per-pixel class scores for whole images. The network is any function from a
/// normalised B x 3 x h x w batch to logits B x K x h x w at its input size (e.g. a segmentation module's
/// forward); the strategy decides which inputs it sees. Strategies run without gradient.
/// </summary>
public interface IInferenceStrategy
{
    /// <summary>Scores B x K x H x W for <paramref name="images"/> B x 3 x H x W, on the images' device.
    /// The argmax over K is the prediction. The result belongs to the caller's dispose scope, if any.</summary>
    Tensor Scores(Func<Tensor, Tensor> network, Tensor images);

    /// <summary>One line for logs, e.g. "sliding window 513x513, stride 341x341".</summary>
    string Description { get; }
}
