namespace EMANet.Runtime.Data;

/// <summary>What <see cref="DatasetFactory.Parse"/> needs beyond the dataset spec.</summary>
public sealed record DatasetOptions
{
    /// <summary>"train" or "val" for every kind; VOC also takes "trainaug" and any list in ImageSets/Segmentation.</summary>
    public string Split { get; init; } = "train";

    /// <summary>Number of scenes of a generated dataset (default: 1000 train / 200 val for synthetic, 2000 / 400 for fashion-mnist).</summary>
    public int? Count { get; init; }

    /// <summary>Side in pixels of generated scenes (default: 96 for synthetic, 128 for fashion-mnist).</summary>
    public int? Size { get; init; }

    /// <summary>Seed of generated scenes; train and val scenes differ for the same seed.</summary>
    public int Seed { get; init; }

    /// <summary>Classes of the synthetic dataset, background included (2 to 7, default 6).</summary>
    public int? Classes { get; init; }

    /// <summary>Leave invalid folder/VOC samples out (with a warning each) instead of failing on them.</summary>
    public bool SkipInvalid { get; init; }

    /// <summary>Where warnings go (default: standard error).</summary>
    public Action<string>? Warn { get; init; }
}
