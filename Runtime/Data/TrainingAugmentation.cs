using EMANet.Runtime.Imaging;

namespace EMANet.Runtime.Data;

/// <summary>
/// The training augmentation of the EMANet recipe, in this order: a random scale from
/// <see cref="AugmentationOptions.Scales"/> (bilinear for the image, nearest for the labels), padding at the
/// bottom and right up to the crop size, a random crop, a horizontal flip with
/// <see cref="AugmentationOptions.FlipProbability"/>, and RGB / 255 with ImageNet normalisation. Padding
/// happens in normalised space, as in the authors' code (normalise, then pad with 0): padded pixels hold
/// <see cref="AugmentationOptions.NormalizedImagePadValue"/> (default 0, the mean colour) and their labels 255
/// (the ignore index). The random draws (scale, crop row, crop column, flip) come from the
/// generator in that order, so a given seed always gives the same result.
/// </summary>
public sealed class TrainingAugmentation : ISampleTransform
{
    public TrainingAugmentation(AugmentationOptions? options = null)
    {
        Options = options ?? new AugmentationOptions();
        if (Options.CropHeight <= 0 || Options.CropWidth <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), $"crop {Options.CropWidth}x{Options.CropHeight} must be positive");
        if (Options.Scales.Count == 0 || Options.Scales.Any(s => !(s > 0) || double.IsInfinity(s)))
            throw new ArgumentOutOfRangeException(nameof(options), $"scales [{string.Join(", ", Options.Scales)}] must be a non-empty list of positive numbers");
        if (Options.FlipProbability is < 0 or > 1 || double.IsNaN(Options.FlipProbability))
            throw new ArgumentOutOfRangeException(nameof(options), Options.FlipProbability, "flip probability must lie in [0, 1]");
    }

    public AugmentationOptions Options { get; }

    public PreparedSample Apply(SegmentationSample sample, SeededRandom random)
    {
        var scale = Options.Scales[random.NextInt(Options.Scales.Count)];
        var height = Math.Max(1, (int)Math.Round(sample.Height * scale, MidpointRounding.AwayFromZero));
        var width = Math.Max(1, (int)Math.Round(sample.Width * scale, MidpointRounding.AwayFromZero));
        var image = sample.Image;
        var label = sample.Label;
        if (height != sample.Height || width != sample.Width)
        {
            image = Resampler.Bilinear(image, height, width);
            label = Resampler.Nearest(label, height, width);
        }

        var (cropH, cropW) = (Options.CropHeight, Options.CropWidth);
        var top = random.NextInt(Math.Max(height, cropH) - cropH + 1);
        var left = random.NextInt(Math.Max(width, cropW) - cropW + 1);
        var flip = random.NextBool(Options.FlipProbability);

        var plane = cropH * cropW;
        var planar = new float[3 * plane];
        var labels = new byte[plane];
        var pad = Options.NormalizedImagePadValue;
        for (var y = 0; y < cropH; y++)
        {
            var sy = top + y;
            for (var x = 0; x < cropW; x++)
            {
                var sx = left + (flip ? cropW - 1 - x : x);
                var o = y * cropW + x;
                if (sy < height && sx < width)
                {
                    var s = sy * width + sx;
                    planar[o] = ImageNormalization.Normalize(0, image.Pixels[3 * s]);
                    planar[plane + o] = ImageNormalization.Normalize(1, image.Pixels[3 * s + 1]);
                    planar[2 * plane + o] = ImageNormalization.Normalize(2, image.Pixels[3 * s + 2]);
                    labels[o] = label.Labels[s];
                }
                else
                {
                    planar[o] = pad;
                    planar[plane + o] = pad;
                    planar[2 * plane + o] = pad;
                    labels[o] = LabelMask.Ignore;
                }
            }
        }
        return new PreparedSample(sample.Id, sample.Source, cropH, cropW, planar, labels);
    }
}
