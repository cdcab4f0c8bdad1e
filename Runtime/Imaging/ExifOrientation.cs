namespace EMANet.Runtime.Imaging;

/// <summary>
/// Reads the EXIF orientation tag (0x0112) of a JPEG file: how a viewer turns the stored pixels to display them.
/// Rule: EXIF 2.32 / TIFF 6.0 orientation values 1..8, applied as OpenCV's <c>IMREAD_COLOR</c> (mmcv's default
/// <c>imread</c>/<c>imfrombytes</c> flag) and PIL's <c>ImageOps.exif_transpose</c> do.
/// </summary>
/// <remarks>
/// Only JPEG files are examined (the APP1 "Exif" segment before the first scan). A missing, truncated or malformed
/// EXIF segment, or a value outside 1..8, reads as 1 (as stored), the way viewers show such images: an unreadable tag
/// never refuses a valid image. The walk is bounded by the file's length and stops at the first scan (SOS).
/// </remarks>
public static class ExifOrientation
{
    /// <summary>The stored pixels are displayed as they are.</summary>
    public const int AsStored = 1;

    private const ushort OrientationTag = 0x0112;
    private const ushort TypeShort = 3;

    /// <returns>The orientation 1..8, or <see cref="AsStored"/> when there is no readable orientation tag.</returns>
    public static int Read(ReadOnlySpan<byte> file)
    {
        if (file.Length < 4 || file[0] != 0xFF || file[1] != 0xD8)
            return AsStored; // not a JPEG
        var at = 2;
        while (at + 4 <= file.Length)
        {
            if (file[at] != 0xFF)
                return AsStored; // not a marker where one must be: unreadable
            var marker = file[at + 1];
            if (marker == 0xFF) { at++; continue; } // fill byte
            if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) { at += 2; continue; } // markers without a length
            if (marker == 0xDA || marker == 0xD9)
                return AsStored; // start of scan / end of image: no EXIF before the pixels
            var length = (file[at + 2] << 8) | file[at + 3];
            if (length < 2 || at + 2 + length > file.Length)
                return AsStored;
            if (marker == 0xE1)
            {
                var orientation = FromApp1(file.Slice(at + 4, length - 2));
                if (orientation != 0)
                    return orientation;
            }
            at += 2 + length;
        }
        return AsStored;
    }

    /// <returns>1..8, or 0 when this APP1 segment is not EXIF or holds no valid orientation.</returns>
    private static int FromApp1(ReadOnlySpan<byte> segment)
    {
        ReadOnlySpan<byte> exifHeader = "Exif\0\0"u8;
        if (!segment.StartsWith(exifHeader))
            return 0;
        var tiff = segment[exifHeader.Length..];
        if (tiff.Length < 8)
            return 0;
        bool little;
        if (tiff[0] == (byte)'I' && tiff[1] == (byte)'I') little = true;
        else if (tiff[0] == (byte)'M' && tiff[1] == (byte)'M') little = false;
        else return 0;
        if (U16(tiff, 2, little) != 42)
            return 0;
        var ifd = U32(tiff, 4, little);
        if (ifd < 8 || ifd > (uint)tiff.Length - 2)
            return 0;
        var count = U16(tiff, (int)ifd, little);
        for (var i = 0; i < count; i++)
        {
            var entry = (long)ifd + 2 + 12L * i;
            if (entry + 12 > tiff.Length)
                return 0;
            var e = (int)entry;
            if (U16(tiff, e, little) != OrientationTag)
                continue;
            if (U16(tiff, e + 2, little) != TypeShort || U32(tiff, e + 4, little) < 1)
                return 0;
            var value = U16(tiff, e + 8, little);
            return value is >= 1 and <= 8 ? value : 0;
        }
        return 0;
    }

    private static ushort U16(ReadOnlySpan<byte> b, int at, bool little) =>
        little ? (ushort)(b[at] | (b[at + 1] << 8)) : (ushort)((b[at] << 8) | b[at + 1]);

    private static uint U32(ReadOnlySpan<byte> b, int at, bool little) =>
        little
            ? (uint)(b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24))
            : (uint)((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]);

    /// <summary>
    /// The image as a viewer displays it: <paramref name="stored"/> turned by EXIF <paramref name="orientation"/>.
    /// Orientations 5..8 swap width and height. 1 (or any value outside 1..8) returns <paramref name="stored"/> itself.
    /// </summary>
    public static RgbImage Apply(RgbImage stored, int orientation)
    {
        if (orientation is < 2 or > 8)
            return stored;
        int w = stored.Width, h = stored.Height;
        var swaps = orientation >= 5;
        int outW = swaps ? h : w, outH = swaps ? w : h;
        var src = stored.Pixels;
        var dst = new byte[src.Length];
        for (var y = 0; y < outH; y++)
        {
            for (var x = 0; x < outW; x++)
            {
                // (sx, sy): the stored pixel a viewer shows at displayed (x, y).
                var (sx, sy) = orientation switch
                {
                    2 => (w - 1 - x, y),         // mirrored left-right
                    3 => (w - 1 - x, h - 1 - y), // turned 180°
                    4 => (x, h - 1 - y),         // mirrored top-bottom
                    5 => (y, x),                 // transposed
                    6 => (y, h - 1 - x),         // displayed turned 90° clockwise
                    7 => (w - 1 - y, h - 1 - x), // transversed
                    _ => (w - 1 - y, x),         // 8: displayed turned 90° counter-clockwise
                };
                var from = (sy * w + sx) * 3;
                var to = (y * outW + x) * 3;
                dst[to] = src[from];
                dst[to + 1] = src[from + 1];
                dst[to + 2] = src[from + 2];
            }
        }
        return new RgbImage(outH, outW, dst);
    }
}
