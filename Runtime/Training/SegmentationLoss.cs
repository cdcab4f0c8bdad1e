using static TorchSharp.torch;

namespace EMANet.Runtime.Training;

/// <summary>The training loss of a segmentation network: cross-entropy over pixels, one label ignored.</summary>
public static class SegmentationLoss
{
    /// <summary>
    /// The cross-entropy of <paramref name="logits"/> (B x K x H x W, floating point) against
    /// <paramref name="labels"/> (B x H x W, int64 class indices or <paramref name="ignoreIndex"/>), averaged as
    /// <paramref name="average"/> says; a 0-dimensional tensor with gradient. With <see cref="LossAverage.All"/>
    /// a batch without a labelled pixel gives 0, with <see cref="LossAverage.Labelled"/> NaN. Reduced-precision
    /// logits (bf16 under mixed precision) are cast to float32 first, as autocast computes the loss.
    /// </summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor labels, int ignoreIndex, LossAverage average)
    {
        using var full = logits.dtype is ScalarType.BFloat16 or ScalarType.Float16 ? logits.to(ScalarType.Float32) : null;
        return CrossEntropyOf(full ?? logits, labels, ignoreIndex, average);
    }

    private static Tensor CrossEntropyOf(Tensor logits, Tensor labels, int ignoreIndex, LossAverage average) => average switch
    {
        // reduction 'none' gives 0 at ignored pixels; the mean of all B x H x W values is the sum over labelled pixels / all pixels.
        LossAverage.All => nn.functional.cross_entropy(logits, labels, ignore_index: ignoreIndex, reduction: nn.Reduction.None).mean(),
        LossAverage.Labelled => nn.functional.cross_entropy(logits, labels, ignore_index: ignoreIndex, reduction: nn.Reduction.Mean),
        _ => throw new ArgumentOutOfRangeException(nameof(average), average, "not a loss average"),
    };
}
