namespace EMANet.Runtime.Imaging;

/// <summary>
/// Reads label masks from PNG files keeping the stored values: palette indices (bit depth 1, 2, 4 or 8)
/// and grey values (1 to 16 bits, values up to 255) become labels unchanged. 8-bit RGB masks are mapped
/// back to indices through the VOC palette; a colour outside it is an error.
/// </summary>
public static class MaskFile
{
    public static LabelMask Read(string path) => FromRaster(PngDecoder.Read(path), path);

    public static LabelMask Decode(ReadOnlySpan<byte> png, string source) => FromRaster(PngDecoder.Decode(png, source), source);

    private static LabelMask FromRaster(PngRaster raster, string source)
    {
        switch (raster.ColorType)
        {
            case PngColorType.Palette:
            case PngColorType.Greyscale:
                return new LabelMask(raster.Height, raster.Width, raster.UnpackSingleChannel(source));
            case PngColorType.Rgb when raster.BitDepth == 8:
                return FromVocColors(raster, source);
            default:
                throw new ImageFileException(source,
                    $"a mask must be a palette, greyscale or 8-bit RGB (VOC colours) PNG; this one is {raster.ColorType} with {raster.BitDepth}-bit samples");
        }
    }

    private static LabelMask FromVocColors(PngRaster raster, string source)
    {
        var labels = new byte[checked(raster.Width * raster.Height)];
        var pixels = raster.Scanlines;
        for (var i = 0; i < labels.Length; i++)
        {
            var color = new Rgb(pixels[3 * i], pixels[3 * i + 1], pixels[3 * i + 2]);
            if (!VocPalette.TryGetIndex(color, out labels[i]))
                throw new ImageFileException(source,
                    $"RGB mask colour {color} at ({i % raster.Width},{i / raster.Width}) is not a VOC palette colour; save masks as palette or greyscale PNGs");
        }
        return new LabelMask(raster.Height, raster.Width, labels);
    }
}
