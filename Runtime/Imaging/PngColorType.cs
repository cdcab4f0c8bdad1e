namespace EMANet.Runtime.Imaging;

/// <summary>The colour types of the PNG specification (IHDR field).</summary>
public enum PngColorType : byte
{
    Greyscale = 0,
    Rgb = 2,
    Palette = 3,
    GreyscaleAlpha = 4,
    Rgba = 6,
}
