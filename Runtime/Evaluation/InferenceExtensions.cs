using static TorchSharp.torch;

namespace EMANet.Runtime.Evaluation;

public static class InferenceExtensions
{
    /// <summary>The predicted class of each pixel, int64 B x H x W.</summary>
    public static Tensor Predict(this IInferenceStrategy strategy, Func<Tensor, Tensor> network, Tensor images)
    {
        using var scope = NewDisposeScope();
        return strategy.Scores(network, images).argmax(1).MoveToOuterDisposeScope();
    }

    internal static Tensor RunChecked(Func<Tensor, Tensor> network, Tensor input, string strategy)
    {
        var output = network(input);
        if (output.dim() != 4 || output.shape[0] != input.shape[0] || output.shape[2] != input.shape[2] || output.shape[3] != input.shape[3])
            throw new InvalidOperationException(
                $"{strategy}: the network turned input [{string.Join(", ", input.shape)}] into [{string.Join(", ", output.shape)}]; " +
                "expected logits B x K x H x W at the input size");
        return output;
    }

    internal static void CheckImages(Tensor images, string strategy)
    {
        if (images.dim() != 4 || images.shape[1] != 3)
            throw new ArgumentException($"{strategy}: expected images B x 3 x H x W, got [{string.Join(", ", images.shape)}]", nameof(images));
    }
}
