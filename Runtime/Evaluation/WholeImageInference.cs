using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace EMANet.Runtime.Evaluation;

/// <summary>
/// The whole image in one pass. The batch is padded at the bottom and right with zeros (the mean colour
/// after normalisation) up to a size of the form <c>n * SizeDivisor + SizeRemainder</c> (e.g. divisor 8 for
/// an output-stride-8 network; remainder 1 gives the 8n+1 sizes, like 513, that align_corners networks
/// prefer), and the scores are cropped back to the image size.
/// </summary>
public sealed class WholeImageInference : IInferenceStrategy
{
    public WholeImageInference(int sizeDivisor = 8, int sizeRemainder = 0)
    {
        if (sizeDivisor < 1)
            throw new ArgumentOutOfRangeException(nameof(sizeDivisor), sizeDivisor, "size divisor must be at least 1");
        if (sizeRemainder < 0 || sizeRemainder >= sizeDivisor)
            throw new ArgumentOutOfRangeException(nameof(sizeRemainder), sizeRemainder, $"size remainder must lie in [0, {sizeDivisor})");
        SizeDivisor = sizeDivisor;
        SizeRemainder = sizeRemainder;
    }

    /// <summary>
    /// The padding for a network of output stride <paramref name="outputStride"/> (1 or more): sizes stride * n + 1, the
    /// align_corners convention (EMANet, DeepLab: 513 for stride 8); any size when the stride is 1 (a network without
    /// downsampling), where "n + 1" would be a remainder outside [0, 1).
    /// </summary>
    public static WholeImageInference ForOutputStride(int outputStride) => new(outputStride, outputStride == 1 ? 0 : 1);

    /// <summary>
    /// The whole-image inference a network's declaration calls for. A network whose output is resized to the input with
    /// align_corners = false (mmsegmentation's heads) runs at the image's own size, unpadded, as mmsegmentation's
    /// 'whole' test mode does (the stride * n + 1 sizes belong to the align_corners = true convention); any other
    /// network gets <see cref="ForOutputStride"/> (the EMANet authors' pad_inf).
    /// </summary>
    public static WholeImageInference For(EMANet.Runtime.Networks.ISegmentationNetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        var declaration = network.Descriptor.Declaration;
        int main = EMANet.Engine.ShapeEngine.Analyze(declaration).MainOutputLayer;
        bool unaligned = main >= 0 && declaration.Layers[main] is { Kind: EMANet.Engine.LayerKind.Upsample, AlignCorners: false };
        return unaligned ? new WholeImageInference(1, 0) : ForOutputStride(network.OutputStride);
    }

    public int SizeDivisor { get; }
    public int SizeRemainder { get; }

    public string Description => SizeRemainder == 0
        ? $"whole image, padded to a multiple of {SizeDivisor}"
        : $"whole image, padded to {SizeDivisor}n+{SizeRemainder}";

    /// <summary>The smallest admissible size not below <paramref name="size"/>.</summary>
    public long PaddedSize(long size)
    {
        var n = (size - SizeRemainder + SizeDivisor - 1) / SizeDivisor; // numerator > 0 as size >= 1 and remainder < divisor
        return n * SizeDivisor + SizeRemainder;
    }

    public Tensor Scores(Func<Tensor, Tensor> network, Tensor images)
    {
        InferenceExtensions.CheckImages(images, Description);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var (height, width) = (images.shape[2], images.shape[3]);
        var (paddedHeight, paddedWidth) = (PaddedSize(height), PaddedSize(width));
        var input = paddedHeight == height && paddedWidth == width
            ? images
            : F.pad(images, [0, paddedWidth - width, 0, paddedHeight - height]);
        var scores = InferenceExtensions.RunChecked(network, input, Description);
        if (paddedHeight != height || paddedWidth != width)
            scores = scores.narrow(2, 0, height).narrow(3, 0, width).contiguous();
        else if (!scope.Contains(scores))
            scores = scores.alias(); // the network handed back a tensor it does not own (e.g. its input): return a new handle
        return scores.MoveToOuterDisposeScope();
    }
}
