using TorchSharp;
using static TorchSharp.torch;

namespace EMANet.Runtime.Data;

/// <summary>Stacks prepared samples into the two tensors of a <see cref="SegmentationBatch"/>.</summary>
internal static class BatchCollator
{
    // The label of padding pixels (the ignore index), held for the process (README.md, "TorchSharp Scalars").
    private static readonly Scalar PaddingLabel = 255L.ToScalar();

    public static SegmentationBatch Collate(IReadOnlyList<PreparedSample> samples, int epoch, int indexInEpoch, long iteration)
    {
        var count = samples.Count;
        var height = samples.Max(s => s.Height);
        var width = samples.Max(s => s.Width);
        var uniform = samples.All(s => s.Height == height && s.Width == width);
        var plane = (long)height * width;

        var images = empty([count, 3, height, width], ScalarType.Float32);
        var labels = empty([count, height, width], ScalarType.Int64);
        try
        {
            if (!uniform)
            {
                // Images of different sizes pad at the bottom and right with 0 after normalisation (the mean colour),
                // as the training augmentation and whole-image inference pad; labels with the ignore index.
                images.zero_();
                labels.fill_(PaddingLabel);
            }
            using var imageData = images.data<float>();
            using var labelData = labels.data<long>();
            var labelRow = new long[samples.Max(s => s.Width)];
            for (var b = 0; b < count; b++)
            {
                var s = samples[b];
                if (uniform)
                    imageData.CopyFrom(s.Image, 0, b * 3 * plane);
                for (var y = 0; y < s.Height; y++)
                {
                    if (!uniform)
                        for (var c = 0; c < 3; c++)
                            imageData.CopyFrom(s.Image.AsSpan((c * s.Height + y) * s.Width, s.Width), 0, (b * 3 + c) * plane + (long)y * width);
                    for (var x = 0; x < s.Width; x++)
                        labelRow[x] = s.Label[y * s.Width + x];
                    labelData.CopyFrom(labelRow.AsSpan(0, s.Width), 0, b * plane + (long)y * width);
                }
            }
        }
        catch
        {
            images.Dispose();
            labels.Dispose();
            throw;
        }
        return new SegmentationBatch(images, labels,
            samples.Select(s => s.Id).ToArray(), samples.Select(s => s.Source).ToArray(),
            samples.Select(s => (s.Height, s.Width)).ToArray(), epoch, indexInEpoch, iteration);
    }
}
