using EMANet.Runtime.Imaging;

namespace EMANet.Runtime.Data;

internal static class ColorSpace
{
    /// <summary>Hue in [0, 1) (wraps), saturation and value in [0, 1].</summary>
    public static Rgb HsvToRgb(double hue, double saturation, double value)
    {
        hue = (hue % 1.0 + 1.0) % 1.0 * 6.0;
        var sector = (int)hue;
        var f = hue - sector;
        var p = value * (1 - saturation);
        var q = value * (1 - saturation * f);
        var t = value * (1 - saturation * (1 - f));
        var (r, g, b) = sector switch
        {
            0 => (value, t, p),
            1 => (q, value, p),
            2 => (p, value, t),
            3 => (p, q, value),
            4 => (t, p, value),
            _ => (value, p, q),
        };
        return new Rgb(ToByte(r), ToByte(g), ToByte(b));
    }

    private static byte ToByte(double v) => (byte)Math.Clamp((int)Math.Round(v * 255), 0, 255);
}
