using EMANet.Runtime.Data;
using EMANet.Runtime.Imaging;
using SkiaSharp;

namespace EMANet.Tests.Imaging;

/// <summary>
/// JPEGs carrying an EXIF orientation decode as a viewer displays them (mmcv's default imread, PIL's exif_transpose).
/// The fixtures are a 16x8 image of two flat 8x8 halves plus a marked corner, encoded by SkiaSharp, with an APP1
/// EXIF segment spliced in after SOI.
/// </summary>
public class ExifOrientationTests
{
    private static readonly Rgb Red = new(220, 30, 30), Blue = new(30, 30, 220), Green = new(30, 200, 30);

    /// <summary>Stored 16 wide, 8 high: left half red, right half blue, top-left 4x4 green.</summary>
    private static Rgb StoredColour(int x, int y) => x < 4 && y < 4 ? Green : x < 8 ? Red : Blue;

    internal static byte[] EncodeJpeg(int width, int height, Func<int, int, Rgb> colour)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                var c = colour(x, y);
                bitmap.SetPixel(x, y, new SKColor(c.R, c.G, c.B));
            }
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 100);
        return data.ToArray();
    }

    /// <summary>The JPEG with an APP1 EXIF segment (one IFD0 entry: orientation) inserted after SOI.</summary>
    internal static byte[] WithOrientation(byte[] jpeg, int orientation, bool bigEndian = false)
    {
        byte[] tiff = bigEndian
            ? [(byte)'M', (byte)'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, (byte)orientation, 0, 0, 0, 0, 0, 0]
            : [(byte)'I', (byte)'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, (byte)orientation, 0, 0, 0, 0, 0, 0, 0];
        return Splice(jpeg, [.. "Exif\0\0"u8.ToArray(), .. tiff]);
    }

    internal static byte[] Splice(byte[] jpeg, byte[] app1Payload)
    {
        var length = app1Payload.Length + 2;
        return [jpeg[0], jpeg[1], 0xFF, 0xE1, (byte)(length >> 8), (byte)length, .. app1Payload, .. jpeg[2..]];
    }

    private static void AssertNear(Rgb expected, Rgb actual, string where)
    {
        var d = Math.Max(Math.Abs(expected.R - actual.R), Math.Max(Math.Abs(expected.G - actual.G), Math.Abs(expected.B - actual.B)));
        Assert.True(d <= 40, $"{where}: expected {expected}, got {actual}");
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(3, false)]
    [InlineData(4, false)]
    [InlineData(5, false)]
    [InlineData(6, false)]
    [InlineData(7, true)]
    [InlineData(8, true)]
    public void Every_orientation_lands_pixels_where_a_viewer_shows_them(int orientation, bool bigEndian)
    {
        var jpeg = WithOrientation(EncodeJpeg(16, 8, StoredColour), orientation, bigEndian);
        Assert.Equal(orientation, ExifOrientation.Read(jpeg));
        var image = ImageFile.DecodeRgb(jpeg, "oriented.jpg");
        var swaps = orientation >= 5;
        Assert.Equal(swaps ? 8 : 16, image.Width);
        Assert.Equal(swaps ? 16 : 8, image.Height);
        // Where the stored pixel (sx, sy) appears on screen, written out per orientation (EXIF 2.32 table).
        foreach (var (sx, sy) in new[] { (1, 1), (6, 6), (12, 2), (12, 6), (6, 2) })
        {
            var (dx, dy) = orientation switch
            {
                1 => (sx, sy),
                2 => (15 - sx, sy),
                3 => (15 - sx, 7 - sy),
                4 => (sx, 7 - sy),
                5 => (sy, sx),
                6 => (7 - sy, sx),
                7 => (7 - sy, 15 - sx),
                _ => (sy, 15 - sx),
            };
            AssertNear(StoredColour(sx, sy), image[dy, dx], $"orientation {orientation}, stored ({sx},{sy}) shown at ({dx},{dy})");
        }
    }

    [Fact]
    public void Unreadable_exif_leaves_a_valid_image_as_stored()
    {
        var jpeg = EncodeJpeg(16, 8, StoredColour);
        byte[][] broken =
        [
            Splice(jpeg, [.. "Exif\0\0"u8.ToArray(), (byte)'X', (byte)'X', 42, 0]),                   // bad byte order, truncated
            Splice(jpeg, [.. "Exif\0\0"u8.ToArray(), (byte)'I', (byte)'I', 42, 0, 0xF0, 0xFF, 0, 0]),    // IFD beyond the segment
            WithOrientation(jpeg, 9),                                                                     // no such orientation
            Splice(jpeg, [.. "http://ns.adobe.com/xap/1.0/\0"u8.ToArray(), 1, 2, 3]),                    // XMP, not EXIF
        ];
        foreach (var bytes in broken)
        {
            Assert.Equal(ExifOrientation.AsStored, ExifOrientation.Read(bytes));
            var image = ImageFile.DecodeRgb(bytes, "odd.jpg");
            Assert.Equal((16, 8), (image.Width, image.Height));
            AssertNear(Green, image[1, 1], "top-left");
        }
    }

    [Fact]
    public void Folder_dataset_pairs_an_orientation_6_photo_with_its_displayed_size_mask()
    {
        using var dir = new TempDirectory();
        var images = Directory.CreateDirectory(dir.Combine("images")).FullName;
        var masks = Directory.CreateDirectory(dir.Combine("masks")).FullName;
        // A phone's read-out: stored 48 wide, 64 high; orientation 6 shows it turned 90° clockwise, 64x48 on screen, and
        // the mask is drawn on the displayed image. The stored top (red) becomes the displayed right half (EXIF: row 0 is
        // the visual right-hand side).
        File.WriteAllBytes(Path.Combine(images, "photo.jpg"), WithOrientation(EncodeJpeg(48, 64, (x, y) => y < 32 ? Red : Blue), 6));
        var mask = new LabelMask(48, 64);
        for (var y = 0; y < 48; y++)
            for (var x = 32; x < 64; x++)
                mask[y, x] = 1; // the red right half
        PngWriter.WriteGrey(Path.Combine(masks, "photo.png"), mask);
        var data = new FolderSegmentationDataset(new FolderDatasetSpec { ImageDirectory = images, MaskDirectory = masks, Classes = 2 });
        var sample = data.Get(0);
        Assert.Equal((64, 48), (sample.Width, sample.Image.Height));
        AssertNear(Blue, sample.Image[24, 8], "displayed left");
        AssertNear(Red, sample.Image[24, 56], "displayed right");
    }
}
