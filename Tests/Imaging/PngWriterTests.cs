using System.Text;
using EMANet.Runtime.Imaging;

namespace EMANet.Tests.Imaging;

public class PngWriterTests
{
    private static RgbImage RandomImage(int height, int width, int seed)
    {
        var pixels = new byte[height * width * 3];
        new Random(seed).NextBytes(pixels);
        // Add smooth areas too, so every filter type gets chosen somewhere.
        for (var i = 0; i < pixels.Length / 2; i++)
            pixels[i] = (byte)(i / 7);
        return new RgbImage(height, width, pixels);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 17)]
    [InlineData(31, 8)]
    public void Rgb_round_trip_through_StbImageSharp_and_own_decoder(int height, int width)
    {
        var image = RandomImage(height, width, height * 100 + width);
        var png = PngWriter.EncodeRgb(image);

        var decodedByStb = ImageFile.DecodeRgb(png, "written.png");
        Assert.Equal(image.Pixels, decodedByStb.Pixels);

        var raster = PngDecoder.Decode(png, "written.png");
        Assert.Equal(PngColorType.Rgb, raster.ColorType);
        Assert.Equal(image.Pixels, raster.Scanlines);
    }

    [Fact]
    public void Indexed_round_trip_keeps_indices_and_writes_the_palette()
    {
        var labels = new byte[5 * 9];
        for (var i = 0; i < labels.Length; i++)
            labels[i] = (byte)(i % 3 == 0 ? 255 : i % 21);
        var mask = new LabelMask(5, 9, labels);
        var png = PngWriter.EncodeIndexed(mask);

        Assert.Equal(labels, MaskFile.Decode(png, "mask.png").Labels);
        var colours = ImageFile.DecodeRgb(png, "mask.png"); // an independent decoder expands the palette
        for (var i = 0; i < labels.Length; i++)
            Assert.Equal(VocPalette.Colors[labels[i]], colours[i / 9, i % 9]);
    }

    [Fact]
    public void Grey_round_trip()
    {
        var mask = new LabelMask(2, 3, [0, 1, 2, 255, 20, 7]);
        var png = PngWriter.EncodeGrey(mask);
        Assert.Equal(mask.Labels, MaskFile.Decode(png, "grey.png").Labels);
        Assert.Equal(new Rgb(255, 255, 255), ImageFile.DecodeRgb(png, "grey.png")[1, 0]);
    }

    [Fact]
    public void Write_creates_the_file_and_its_directory()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("sub", "m.png");
        PngWriter.WriteIndexed(path, new LabelMask(2, 2, [0, 1, 2, 3]));
        Assert.Equal(new byte[] { 0, 1, 2, 3 }, MaskFile.Read(path).Labels);
    }

    [Fact]
    public void Crc32_matches_the_standard_check_value()
    {
        Assert.Equal(0xCBF43926u, Crc32.Compute(Encoding.ASCII.GetBytes("123456789")));
        Assert.Equal(0u, Crc32.Compute([]));
    }
}
