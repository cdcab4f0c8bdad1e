using EMANet.Runtime.Imaging;

namespace EMANet.Runtime.Data;

/// <summary>
/// RGB / 255, then per-channel ImageNet normalisation ((v - mean) / std), into a planar 3 x H x W float array
/// (the layout of one image of a B x 3 x H x W tensor).
/// </summary>
public static class ImageNormalization
{
    public static IReadOnlyList<float> Mean { get; } = [0.485f, 0.456f, 0.406f];
    public static IReadOnlyList<float> Std { get; } = [0.229f, 0.224f, 0.225f];

    /// <summary>Normalised value of each byte, per channel: <c>Table[c][v]</c>.</summary>
    private static readonly float[][] Table = Enumerable.Range(0, 3)
        .Select(c => Enumerable.Range(0, 256).Select(v => (v / 255f - Mean[c]) / Std[c]).ToArray())
        .ToArray();

    /// <summary>The normalised value of raw sample <paramref name="value"/> in <paramref name="channel"/>.</summary>
    public static float Normalize(int channel, byte value) => Table[channel][value];

    public static float[] ToPlanar(RgbImage image)
    {
        var plane = image.Height * image.Width;
        var result = new float[3 * plane];
        var pixels = image.Pixels;
        for (var i = 0; i < plane; i++)
        {
            result[i] = Table[0][pixels[3 * i]];
            result[plane + i] = Table[1][pixels[3 * i + 1]];
            result[2 * plane + i] = Table[2][pixels[3 * i + 2]];
        }
        return result;
    }

    /// <summary>The inverse, rounded and clamped to bytes (for pictures of what the network saw).</summary>
    public static RgbImage FromPlanar(ReadOnlySpan<float> planar, int height, int width)
    {
        var plane = height * width;
        if (planar.Length != 3 * plane)
            throw new ArgumentException($"3 x {height} x {width} needs {3 * plane} values, got {planar.Length}", nameof(planar));
        var pixels = new byte[3 * plane];
        for (var i = 0; i < plane; i++)
            for (var c = 0; c < 3; c++)
                pixels[3 * i + c] = (byte)Math.Clamp((int)MathF.Round((planar[c * plane + i] * Std[c] + Mean[c]) * 255f), 0, 255);
        return new RgbImage(height, width, pixels);
    }
}
