using EMANet.Runtime.Imaging;

namespace EMANet.Tests.Imaging;

public class ResamplerTests
{
    [Fact]
    public void Bilinear_uses_pixel_centres()
    {
        // Two pixels 0 and 100 to four: centres map to -0.25 (clamped), 0.25, 0.75, 1.25 (clamped).
        Assert.Equal(new byte[] { 0, 25, 75, 100 }, Resampler.Bilinear([0, 100], 1, 2, 1, 1, 4));
        // Four to two: centres 0.5 and 2.5, the means of each pair.
        Assert.Equal(new byte[] { 15, 35 }, Resampler.Bilinear([10, 20, 30, 40], 1, 4, 1, 1, 2));
    }

    [Fact]
    public void Bilinear_keeps_constant_images_and_channels_apart()
    {
        var image = new RgbImage(3, 5);
        for (var y = 0; y < 3; y++)
            for (var x = 0; x < 5; x++)
                image[y, x] = new Rgb(7, 130, 250);
        var resized = Resampler.Bilinear(image, 7, 4);
        for (var y = 0; y < 7; y++)
            for (var x = 0; x < 4; x++)
                Assert.Equal(new Rgb(7, 130, 250), resized[y, x]);
    }

    [Fact]
    public void Nearest_never_blends_labels()
    {
        var mask = new LabelMask(2, 2, [1, 2, 3, 255]);
        Assert.Equal(new byte[] { 1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 255, 255, 3, 3, 255, 255 }, Resampler.Nearest(mask, 4, 4).Labels);
        Assert.Equal(new byte[] { 1 }, Resampler.Nearest(new LabelMask(2, 2, [1, 1, 1, 1]), 1, 1).Labels);
    }
}
