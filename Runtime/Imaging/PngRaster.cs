namespace EMANet.Runtime.Imaging;

/// <summary>
/// A decoded, un-interlaced PNG before its samples are interpreted: the unfiltered scanlines
/// (<see cref="RowBytes"/> bytes per row, no filter-type bytes), the header fields and the palette.
/// </summary>
public sealed class PngRaster
{
    internal PngRaster(int width, int height, int bitDepth, PngColorType colorType, byte[] scanlines, Rgb[]? palette)
    {
        Width = width;
        Height = height;
        BitDepth = bitDepth;
        ColorType = colorType;
        Scanlines = scanlines;
        Palette = palette;
    }

    public int Width { get; }
    public int Height { get; }
    public int BitDepth { get; }
    public PngColorType ColorType { get; }
    public byte[] Scanlines { get; }

    /// <summary>The PLTE entries, or null when the file has none.</summary>
    public Rgb[]? Palette { get; }

    public int Channels => ChannelsOf(ColorType);
    public int RowBytes => RowBytesOf(Width, ColorType, BitDepth);

    internal static int ChannelsOf(PngColorType colorType) => colorType switch
    {
        PngColorType.Greyscale or PngColorType.Palette => 1,
        PngColorType.GreyscaleAlpha => 2,
        PngColorType.Rgb => 3,
        PngColorType.Rgba => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(colorType), colorType, "not a PNG colour type"),
    };

    internal static int RowBytesOf(int width, PngColorType colorType, int bitDepth) =>
        checked((int)(((long)width * ChannelsOf(colorType) * bitDepth + 7) / 8));

    /// <summary>
    /// The single-channel samples of a greyscale or palette raster, one byte per pixel (sub-byte depths
    /// unpacked, not rescaled). 16-bit samples must fit in a byte.
    /// </summary>
    internal byte[] UnpackSingleChannel(string source)
    {
        var result = new byte[checked(Width * Height)];
        var rowBytes = RowBytes;
        for (var y = 0; y < Height; y++)
        {
            var row = Scanlines.AsSpan(y * rowBytes, rowBytes);
            var outRow = result.AsSpan(y * Width, Width);
            switch (BitDepth)
            {
                case 8:
                    row.CopyTo(outRow);
                    break;
                case 16:
                    for (var x = 0; x < Width; x++)
                    {
                        var value = (row[2 * x] << 8) | row[2 * x + 1];
                        if (value > 255)
                            throw new ImageFileException(source, $"16-bit sample {value} at ({x},{y}) does not fit a label (0-255)");
                        outRow[x] = (byte)value;
                    }
                    break;
                default:
                    var perByte = 8 / BitDepth;
                    var mask = (1 << BitDepth) - 1;
                    for (var x = 0; x < Width; x++)
                    {
                        var shift = 8 - BitDepth * (x % perByte + 1);
                        outRow[x] = (byte)((row[x / perByte] >> shift) & mask);
                    }
                    break;
            }
        }
        return result;
    }
}
