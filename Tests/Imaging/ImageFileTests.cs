using EMANet.Runtime.Imaging;

namespace EMANet.Tests.Imaging;

public class ImageFileTests
{
    [Fact]
    public void Jpeg_decodes_to_rgb()
    {
        // Four flat 8x8 quadrants encoded by cjpeg at quality 95 without chroma subsampling.
        var image = ImageFile.ReadRgb(TestFiles.Fixture("quadrants.jpg"));
        Assert.Equal(16, image.Width);
        Assert.Equal(16, image.Height);
        Rgb[] expected = [new(200, 30, 40), new(20, 180, 60), new(30, 50, 220), new(240, 240, 240)];
        for (var q = 0; q < 4; q++)
        {
            var pixel = image[(q / 2) * 8 + 4, (q % 2) * 8 + 4];
            Assert.InRange(Math.Abs(pixel.R - expected[q].R), 0, 6);
            Assert.InRange(Math.Abs(pixel.G - expected[q].G), 0, 6);
            Assert.InRange(Math.Abs(pixel.B - expected[q].B), 0, 6);
        }
    }

    [Fact]
    public void Png_palette_decodes_to_colours()
    {
        var image = ImageFile.ReadRgb(TestFiles.Fixture("palette8.png"));
        // Index at (1, 0) is 37; the fixture's palette entry i is (3i mod 256, 255 - i, 7i mod 256).
        Assert.Equal(new Rgb(111, 218, 3), image[0, 1]);
    }

    [Fact]
    public void Broken_files_raise_errors_naming_the_file()
    {
        using var dir = new TempDirectory();
        var garbage = dir.Combine("garbage.jpg");
        File.WriteAllBytes(garbage, [0xFF, 0xD8, 0xFF, 0x00, 1, 2, 3]);
        var empty = dir.Combine("empty.jpg");
        File.WriteAllBytes(empty, []);
        var missing = dir.Combine("missing.jpg");

        foreach (var path in new[] { garbage, empty, missing })
        {
            var error = Assert.Throws<ImageFileException>(() => ImageFile.ReadRgb(path));
            Assert.StartsWith(path + ": ", error.Message);
        }
    }
}
