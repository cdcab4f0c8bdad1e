using EMANet.Runtime.Imaging;

namespace EMANet.Tests.Imaging;

public class VocPaletteTests
{
    [Theory]
    [InlineData(0, 0, 0, 0)]
    [InlineData(1, 128, 0, 0)]
    [InlineData(2, 0, 128, 0)]
    [InlineData(3, 128, 128, 0)]
    [InlineData(4, 0, 0, 128)]
    [InlineData(8, 64, 0, 0)]
    [InlineData(15, 192, 128, 128)]
    [InlineData(20, 0, 64, 128)]
    [InlineData(255, 224, 224, 192)]
    public void Entries_match_the_voc_colour_map(int index, byte r, byte g, byte b)
    {
        Assert.Equal(256, VocPalette.Colors.Count);
        Assert.Equal(new Rgb(r, g, b), VocPalette.Colors[index]);
        Assert.True(VocPalette.TryGetIndex(new Rgb(r, g, b), out var found));
        Assert.Equal(index, found);
    }

    [Fact]
    public void Colorize_and_overlay()
    {
        var mask = new LabelMask(1, 3, [0, 1, 255]);
        var colours = MaskColorizer.Colorize(mask);
        Assert.Equal(new Rgb(128, 0, 0), colours[0, 1]);
        Assert.Equal(new Rgb(224, 224, 192), colours[0, 2]);

        var image = new RgbImage(1, 3, [100, 100, 100, 10, 20, 30, 0, 0, 0]);
        var overlay = MaskColorizer.Overlay(image, mask);
        Assert.Equal(new Rgb(50, 50, 50), overlay[0, 0]);
        Assert.Equal(new Rgb(69, 10, 15), overlay[0, 1]);
        Assert.Equal(new Rgb(112, 112, 96), overlay[0, 2]);

        Assert.Throws<ArgumentException>(() => MaskColorizer.Overlay(new RgbImage(2, 3), mask));
        Assert.Throws<ArgumentException>(() => MaskColorizer.Colorize(new LabelMask(1, 1, [5]), [new Rgb(0, 0, 0)]));
    }
}
