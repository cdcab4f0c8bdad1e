using EMANet.Runtime.Imaging;

namespace EMANet.Tests.Imaging;

/// <summary>Masks written by an independent encoder (Fixtures/make_fixtures.py: zlib + struct, all five filters).</summary>
public class PngFixtureTests
{
    private static void AssertMask(LabelMask mask, int width, int height, Func<int, int, int> expected)
    {
        Assert.Equal(width, mask.Width);
        Assert.Equal(height, mask.Height);
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                Assert.True(expected(x, y) == mask[y, x], $"pixel ({x},{y}): expected {expected(x, y)}, read {mask[y, x]}");
    }

    [Fact]
    public void Palette8_keeps_indices_not_colours()
    {
        var mask = MaskFile.Read(TestFiles.Fixture("palette8.png"));
        AssertMask(mask, 7, 5, (x, y) => (x, y) == (0, 0) ? 255 : (x * 37 + y * 11) % 256);
    }

    [Theory]
    [InlineData("palette4.png", 9, 3, 4)]
    [InlineData("palette2.png", 5, 3, 2)]
    [InlineData("palette1.png", 11, 2, 1)]
    public void Sub_byte_palettes_unpack(string file, int width, int height, int depth)
    {
        Func<int, int, int> expected = depth switch
        {
            4 => (x, y) => (x + 2 * y) % 16,
            2 => (x, y) => (x * y + x) % 4,
            _ => (x, y) => (x + y) % 2,
        };
        AssertMask(MaskFile.Read(TestFiles.Fixture(file)), width, height, expected);
        Assert.Equal(depth, PngDecoder.Read(TestFiles.Fixture(file)).BitDepth);
    }

    [Fact]
    public void Palette_entries_are_read()
    {
        var raster = PngDecoder.Read(TestFiles.Fixture("palette8.png"));
        Assert.Equal(PngColorType.Palette, raster.ColorType);
        Assert.Equal(256, raster.Palette!.Length);
        Assert.Equal(new Rgb(15, 250, 35), raster.Palette[5]);
    }

    [Fact]
    public void Grey_masks_keep_values()
    {
        AssertMask(MaskFile.Read(TestFiles.Fixture("grey8.png")), 6, 4, (x, y) => x == 5 ? 255 : x * 40 + y);
        AssertMask(MaskFile.Read(TestFiles.Fixture("grey16.png")), 4, 2, (x, y) => x + 10 * y);
    }

    [Fact]
    public void Rgb_masks_map_back_through_the_voc_palette()
    {
        AssertMask(MaskFile.Read(TestFiles.Fixture("rgb_voc.png")), 4, 3, (x, y) => (x, y) == (3, 2) ? 255 : (x + 4 * y) % 21);
    }

    [Theory]
    [InlineData("rgb_not_voc.png", "(1,2,3)")]
    [InlineData("grey16_too_big.png", "300")]
    [InlineData("interlaced.png", "interlac")]
    [InlineData("bad_crc.png", "CRC mismatch in chunk 'IDAT'")]
    [InlineData("truncated.png", "truncated")]
    [InlineData("quadrants.jpg", "not a PNG")]
    [InlineData("does-not-exist.png", "cannot read")]
    public void Defects_raise_errors_naming_the_file(string file, string problem)
    {
        var path = TestFiles.Fixture(file);
        var error = Assert.Throws<ImageFileException>(() => MaskFile.Read(path));
        Assert.StartsWith(path + ": ", error.Message);
        Assert.Contains(problem, error.Message);
        Assert.Equal(path, error.FilePath);
    }
}
