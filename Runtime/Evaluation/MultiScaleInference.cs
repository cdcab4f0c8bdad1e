using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace EMANet.Runtime.Evaluation;

/// <summary>
/// Test-time augmentation ("MS+Flip"): the batch is resized by each scale (bilinear, align_corners=false),
/// scored by the inner strategy, and, with flipping, scored again mirrored left-right and mirrored back.
/// Each pass's scores are resized to the image size and turned into softmax probabilities; the result is
/// the mean of these probabilities. This is what mmsegmentation does (its aug_test and SegTTAModel average
/// softmax outputs, not logits), and what the EMANet paper's "MS+Flip" column reports.
/// </summary>
public sealed class MultiScaleInference : IInferenceStrategy
{
    public static readonly IReadOnlyList<double> DefaultScales = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75];

    public MultiScaleInference(IInferenceStrategy inner, IReadOnlyList<double>? scales = null, bool flip = true)
    {
        Inner = inner;
        Scales = scales ?? DefaultScales;
        Flip = flip;
        if (Scales.Count == 0 || Scales.Any(s => !(s > 0) || double.IsInfinity(s)))
            throw new ArgumentOutOfRangeException(nameof(scales), $"scales [{string.Join(", ", Scales)}] must be a non-empty list of positive numbers");
    }

    public IInferenceStrategy Inner { get; }
    public IReadOnlyList<double> Scales { get; }
    public bool Flip { get; }

    public string Description => $"scales {string.Join("/", Scales)}{(Flip ? " + flip" : "")}, mean softmax, each by {Inner.Description}";

    public Tensor Scores(Func<Tensor, Tensor> network, Tensor images)
    {
        InferenceExtensions.CheckImages(images, Description);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var (height, width) = (images.shape[2], images.shape[3]);
        Tensor? sum = null;
        var passes = 0;
        foreach (var scale in Scales)
        {
            using var pass = NewDisposeScope();
            var h = Math.Max(1, (long)Math.Round(height * scale, MidpointRounding.AwayFromZero));
            var w = Math.Max(1, (long)Math.Round(width * scale, MidpointRounding.AwayFromZero));
            var scaled = h == height && w == width ? images : Resize(images, h, w);
            foreach (var mirrored in Flip ? new[] { false, true } : [false])
            {
                var input = mirrored ? scaled.flip(3) : scaled;
                var scores = Inner.Scores(network, input);
                if (mirrored)
                    scores = scores.flip(3);
                if (h != height || w != width)
                    scores = Resize(scores, height, width);
                var probabilities = F.softmax(scores, 1);
                if (sum is null)
                {
                    sum = probabilities.clone();
                    sum.MoveToOuterDisposeScope();
                }
                else
                    sum.add_(probabilities, Scalars.One);
                passes++;
            }
        }
        using var passCount = ((long)passes).ToScalar();   // held for the call (README.md, "TorchSharp Scalars")
        return sum!.div(passCount).MoveToOuterDisposeScope();
    }

    private static Tensor Resize(Tensor input, long height, long width) =>
        F.interpolate(input, [height, width], mode: InterpolationMode.Bilinear, align_corners: false);
}
