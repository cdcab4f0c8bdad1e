using EMANet.Runtime.Data;
using EMANet.Runtime.Imaging;

namespace EMANet.Tests.Data;

public class AugmentationTests
{
    private static RgbImage Denormalize(PreparedSample s) => ImageNormalization.FromPlanar(s.Image, s.Height, s.Width);

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    public void Crop_and_flip_keep_image_and_labels_aligned(double flip)
    {
        var sample = LabelColoredSample.Create(30, 40);
        var augment = new TrainingAugmentation(new AugmentationOptions { CropHeight = 20, CropWidth = 24, Scales = [1.0], FlipProbability = flip });
        for (var seed = 0; seed < 10; seed++)
        {
            var result = augment.Apply(sample, new SeededRandom((ulong)seed));
            Assert.Equal((20, 24), (result.Height, result.Width));
            var image = Denormalize(result);
            for (var p = 0; p < result.Label.Length; p++)
                Assert.Equal(LabelColoredSample.ColorOf(result.Label[p]), image[p / 24, p % 24]);
        }
    }

    [Fact]
    public void Flip_mirrors_columns()
    {
        var sample = LabelColoredSample.Create(10, 14);
        var result = new TrainingAugmentation(new AugmentationOptions { CropHeight = 10, CropWidth = 14, Scales = [1.0], FlipProbability = 1 })
            .Apply(sample, new SeededRandom(0));
        for (var y = 0; y < 10; y++)
            for (var x = 0; x < 14; x++)
                Assert.Equal(sample.Label[y, 13 - x], result.Label[y * 14 + x]);
    }

    [Fact]
    public void Rescaled_interiors_keep_their_colour_and_label()
    {
        var sample = LabelColoredSample.Create(30, 36);
        var augment = new TrainingAugmentation(new AugmentationOptions { CropHeight = 32, CropWidth = 32, Scales = [0.75, 1.5, 2.0] });
        var checkedPixels = 0;
        for (var seed = 0; seed < 12; seed++)
        {
            var result = augment.Apply(sample, new SeededRandom((ulong)seed));
            var image = Denormalize(result);
            for (var y = 1; y < 31; y++)
                for (var x = 1; x < 31; x++)
                {
                    var label = result.Label[y * 32 + x];
                    if (label == LabelMask.Ignore)
                        continue;
                    var interior = true;
                    for (var dy = -1; dy <= 1; dy++)
                        for (var dx = -1; dx <= 1; dx++)
                            interior &= result.Label[(y + dy) * 32 + x + dx] == label;
                    if (!interior)
                        continue;
                    checkedPixels++;
                    Assert.Equal(LabelColoredSample.ColorOf(label), image[y, x]);
                }
        }
        Assert.True(checkedPixels > 12 * 32 * 32 / 3, $"only {checkedPixels} interior pixels checked");
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    public void Small_images_are_padded_with_the_mean_colour_and_ignored_labels(double flip)
    {
        // The authors' dataset.py normalises, then pads with 0: padding is the ImageNet mean colour (0 in every
        // normalised channel), not black (about -2 after normalisation).
        var sample = LabelColoredSample.Create(10, 12);
        var result = new TrainingAugmentation(new AugmentationOptions { CropHeight = 16, CropWidth = 20, Scales = [1.0], FlipProbability = flip })
            .Apply(sample, new SeededRandom(3));
        var plane = 16 * 20;
        var padded = 0;
        for (var y = 0; y < 16; y++)
            for (var x = 0; x < 20; x++)
            {
                var p = y * 20 + x;
                var sx = flip == 1 ? 19 - x : x;   // the flip mirrors the padded crop: padding moves to the left
                if (y < 10 && sx < 12)
                {
                    Assert.Equal(sample.Label[y, sx], result.Label[p]);
                    continue;
                }
                padded++;
                Assert.Equal(LabelMask.Ignore, result.Label[p]);
                for (var c = 0; c < 3; c++)
                    Assert.Equal(0f, result.Image[c * plane + p]);
                // Denormalised, the padding is the mean colour: round(255 * mean) per channel.
                Assert.Equal(new Rgb(124, 116, 104), Denormalize(result)[y, x]);
            }
        Assert.Equal(16 * 20 - 10 * 12, padded);
    }

    [Fact]
    public void Same_seed_same_result_and_the_scales_vary()
    {
        var sample = LabelColoredSample.Create(30, 40);
        var augment = new TrainingAugmentation(AugmentationOptions.WithCrop(24));
        var a = augment.Apply(sample, new SeededRandom(77));
        var b = augment.Apply(sample, new SeededRandom(77));
        Assert.Equal(a.Image, b.Image);
        Assert.Equal(a.Label, b.Label);
        var ignoredShare = Enumerable.Range(0, 40).Select(seed => augment.Apply(sample, new SeededRandom((ulong)seed)))
            .Select(r => r.Label.Count(l => l == LabelMask.Ignore)).Distinct().Count();
        Assert.True(ignoredShare > 3, "different seeds should draw different scales and crops");
    }

    [Fact]
    public void Normalisation_uses_imagenet_statistics()
    {
        Assert.Equal((1f - 0.485f) / 0.229f, ImageNormalization.Normalize(0, 255), 6);
        Assert.Equal((0f - 0.406f) / 0.225f, ImageNormalization.Normalize(2, 0), 6);
        var sample = LabelColoredSample.Create(5, 6);
        var evaluated = EvaluationTransform.Instance.Apply(sample, new SeededRandom(0));
        Assert.Equal((5, 6), (evaluated.Height, evaluated.Width));
        Assert.Equal(sample.Label.Labels, evaluated.Label);
        Assert.Equal(sample.Image.Pixels, Denormalize(evaluated).Pixels);
        Assert.Equal(ImageNormalization.Normalize(1, sample.Image[2, 3].G), evaluated.Image[30 + 2 * 6 + 3]);
    }

    [Fact]
    public void Bad_options_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingAugmentation(new AugmentationOptions { Scales = [] }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingAugmentation(new AugmentationOptions { Scales = [1, -1] }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingAugmentation(new AugmentationOptions { FlipProbability = 2 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TrainingAugmentation(AugmentationOptions.WithCrop(0)));
    }
}
