namespace EMANet.Runtime.Imaging;

/// <summary>
/// The 256-colour palette of PASCAL VOC masks: entry i spreads the bits of i over the three channels,
/// bit 0 to red, bit 1 to green, bit 2 to blue, then the next three bits one place lower, starting at the
/// most significant bit. Entry 0 is black, 1 is (128,0,0), 15 (person) is (192,128,128), 255 is (224,224,192).
/// </summary>
public static class VocPalette
{
    public static IReadOnlyList<Rgb> Colors { get; } = Build();

    private static Rgb[] Build()
    {
        var colors = new Rgb[256];
        for (var i = 0; i < 256; i++)
        {
            int r = 0, g = 0, b = 0, c = i;
            for (var bit = 7; c != 0; bit--, c >>= 3)
            {
                r |= (c & 1) << bit;
                g |= ((c >> 1) & 1) << bit;
                b |= ((c >> 2) & 1) << bit;
            }
            colors[i] = new Rgb((byte)r, (byte)g, (byte)b);
        }
        return colors;
    }

    private static readonly Lazy<Dictionary<Rgb, byte>> IndexByColor = new(() =>
    {
        var map = new Dictionary<Rgb, byte>();
        for (var i = 0; i < 256; i++)
            map.TryAdd(Colors[i], (byte)i);
        return map;
    });

    /// <summary>The palette index whose colour is <paramref name="color"/>, if any.</summary>
    public static bool TryGetIndex(Rgb color, out byte index) => IndexByColor.Value.TryGetValue(color, out index);
}
