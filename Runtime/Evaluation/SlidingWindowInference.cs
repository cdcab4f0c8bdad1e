using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace EMANet.Runtime.Evaluation;

/// <summary>
/// Windows of the crop size laid over the image with the given stride (the last row and column of windows
/// are pulled back to end at the image border, as mmsegmentation does); overlapping logits are averaged.
/// A window larger than the image is padded at the bottom and right with zeros and its scores cropped, so
/// the network always sees crop-sized inputs.
/// </summary>
public sealed class SlidingWindowInference : IInferenceStrategy
{
    public SlidingWindowInference(int cropHeight, int cropWidth, int strideHeight, int strideWidth)
    {
        if (cropHeight < 1 || cropWidth < 1)
            throw new ArgumentOutOfRangeException(nameof(cropHeight), $"crop {cropWidth}x{cropHeight} must be positive");
        if (strideHeight < 1 || strideWidth < 1 || strideHeight > cropHeight || strideWidth > cropWidth)
            throw new ArgumentOutOfRangeException(nameof(strideHeight), $"stride {strideWidth}x{strideHeight} must be positive and no larger than the crop {cropWidth}x{cropHeight}");
        CropHeight = cropHeight;
        CropWidth = cropWidth;
        StrideHeight = strideHeight;
        StrideWidth = strideWidth;
    }

    /// <summary>A square crop with stride two thirds of it (513 → 342), the usual overlap.</summary>
    public SlidingWindowInference(int crop) : this(crop, crop, Math.Max(1, (2 * crop + 2) / 3), Math.Max(1, (2 * crop + 2) / 3)) { }

    public int CropHeight { get; }
    public int CropWidth { get; }
    public int StrideHeight { get; }
    public int StrideWidth { get; }

    public string Description => $"sliding window {CropWidth}x{CropHeight}, stride {StrideWidth}x{StrideHeight}";

    /// <summary>Start offsets of the windows along one axis.</summary>
    public static long[] WindowStarts(long size, int crop, int stride)
    {
        var count = Math.Max(size - crop + stride - 1, 0) / stride + 1;
        var starts = new long[count];
        for (var i = 0; i < count; i++)
        {
            var end = Math.Min(i * stride + crop, size);
            starts[i] = Math.Max(end - crop, 0);
        }
        return starts;
    }

    public Tensor Scores(Func<Tensor, Tensor> network, Tensor images)
    {
        InferenceExtensions.CheckImages(images, Description);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var (batch, height, width) = (images.shape[0], images.shape[2], images.shape[3]);
        var counts = zeros([1, 1, height, width], ScalarType.Float32, images.device);
        Tensor? sums = null;
        foreach (var top in WindowStarts(height, CropHeight, StrideHeight))
        foreach (var left in WindowStarts(width, CropWidth, StrideWidth))
        {
            using var window = NewDisposeScope();
            var h = Math.Min(CropHeight, height - top);
            var w = Math.Min(CropWidth, width - left);
            var crop = images.narrow(2, top, h).narrow(3, left, w);
            if (h < CropHeight || w < CropWidth)
                crop = F.pad(crop, [0, CropWidth - w, 0, CropHeight - h]);
            var logits = InferenceExtensions.RunChecked(network, crop, Description).narrow(2, 0, h).narrow(3, 0, w);
            if (sums is null)
            {
                sums = zeros([batch, logits.shape[1], height, width], logits.dtype, logits.device);
                sums.MoveToOuterDisposeScope();
            }
            sums.narrow(2, top, h).narrow(3, left, w).add_(logits, Scalars.One);
            counts.narrow(2, top, h).narrow(3, left, w).add_(Scalars.One, Scalars.One);
        }
        return sums!.div(counts).MoveToOuterDisposeScope();
    }
}
