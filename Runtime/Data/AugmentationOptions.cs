namespace EMANet.Runtime.Data;

/// <summary>The training augmentation of the EMANet recipe (defaults) and its knobs.</summary>
public sealed record AugmentationOptions
{
    /// <summary>0.5, 0.75, ..., 2.0.</summary>
    public static readonly IReadOnlyList<double> DefaultScales = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75, 2.0];

    public int CropHeight { get; init; } = 513;
    public int CropWidth { get; init; } = 513;

    /// <summary>Scale factors drawn uniformly, one per sample.</summary>
    public IReadOnlyList<double> Scales { get; init; } = DefaultScales;

    public double FlipProbability { get; init; } = 0.5;

    /// <summary>
    /// Value of image padding after normalisation, in every channel; label padding is always 255. The default 0 is
    /// the ImageNet mean colour, as the authors' dataset.py (it normalises, then pads with 0) and mmsegmentation
    /// (it pads the normalised batch with 0) pad, and as <see cref="Evaluation.WholeImageInference"/> pads.
    /// </summary>
    public float NormalizedImagePadValue { get; init; }

    /// <summary>The defaults with a square crop of <paramref name="size"/>.</summary>
    public static AugmentationOptions WithCrop(int size) => new() { CropHeight = size, CropWidth = size };
}
