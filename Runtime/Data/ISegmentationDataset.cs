namespace EMANet.Runtime.Data;

/// <summary>
/// A finite, indexable set of segmentation samples. <see cref="Get"/> must be safe to call from several
/// threads at once and must return the same sample for the same index every time.
/// </summary>
public interface ISegmentationDataset
{
    /// <summary>Short name for logs, e.g. "synthetic-shapes/train" or "voc/val".</summary>
    string Name { get; }

    int Count { get; }

    /// <summary>Number of classes, background included; labels lie in [0, Classes) or are 255.</summary>
    int Classes { get; }

    /// <summary>One name per class, index 0 first.</summary>
    string[] ClassNames { get; }

    SegmentationSample Get(int index);
}
