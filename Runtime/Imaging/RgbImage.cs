namespace EMANet.Runtime.Imaging;

/// <summary>An 8-bit RGB image stored row-major, interleaved: <c>Pixels[(y * Width + x) * 3 + c]</c>.</summary>
public sealed class RgbImage
{
    public RgbImage(int height, int width, byte[] pixels)
    {
        if (height <= 0 || width <= 0)
            throw new ArgumentOutOfRangeException(nameof(height), $"image size {width}x{height} must be positive");
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.Length != checked(height * width * 3))
            throw new ArgumentException($"an RGB image of {width}x{height} needs {height * width * 3} bytes, got {pixels.Length}", nameof(pixels));
        Height = height;
        Width = width;
        Pixels = pixels;
    }

    /// <summary>A black image.</summary>
    public RgbImage(int height, int width) : this(height, width, new byte[checked(height * width * 3)]) { }

    public int Height { get; }
    public int Width { get; }
    public byte[] Pixels { get; }

    public Rgb this[int y, int x]
    {
        get
        {
            var i = (y * Width + x) * 3;
            return new Rgb(Pixels[i], Pixels[i + 1], Pixels[i + 2]);
        }
        set
        {
            var i = (y * Width + x) * 3;
            Pixels[i] = value.R;
            Pixels[i + 1] = value.G;
            Pixels[i + 2] = value.B;
        }
    }
}
