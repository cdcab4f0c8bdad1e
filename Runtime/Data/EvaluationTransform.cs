namespace EMANet.Runtime.Data;

/// <summary>Evaluation: the image is only normalised; size and labels stay as they are.</summary>
public sealed class EvaluationTransform : ISampleTransform
{
    public static EvaluationTransform Instance { get; } = new();

    public PreparedSample Apply(SegmentationSample sample, SeededRandom random) =>
        new(sample.Id, sample.Source, sample.Height, sample.Width, ImageNormalization.ToPlanar(sample.Image), sample.Label.Labels);
}
