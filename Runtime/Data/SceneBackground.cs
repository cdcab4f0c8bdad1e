using EMANet.Runtime.Imaging;

namespace EMANet.Runtime.Data;

/// <summary>
/// Procedural textures for generated scenes: a low-frequency blend of two muted colours (a sum of random
/// plane waves) and per-pixel noise, so that "not background" cannot be read off a flat colour.
/// </summary>
internal static class SceneBackground
{
    public static void Paint(RgbImage image, SeededRandom random)
    {
        var a = MutedColor(random);
        var b = MutedColor(random);
        const int waves = 3;
        Span<double> fx = stackalloc double[waves], fy = stackalloc double[waves], phase = stackalloc double[waves], weight = stackalloc double[waves];
        var total = 0.0;
        for (var k = 0; k < waves; k++)
        {
            var cycles = random.NextDouble(0.5, 6.0);
            var direction = random.NextDouble(0, 2 * Math.PI);
            fx[k] = 2 * Math.PI * cycles * Math.Cos(direction) / image.Width;
            fy[k] = 2 * Math.PI * cycles * Math.Sin(direction) / image.Height;
            phase[k] = random.NextDouble(0, 2 * Math.PI);
            weight[k] = random.NextDouble(0.3, 1.0);
            total += weight[k];
        }
        for (var y = 0; y < image.Height; y++)
        for (var x = 0; x < image.Width; x++)
        {
            var s = 0.0;
            for (var k = 0; k < waves; k++)
                s += weight[k] * Math.Sin(fx[k] * x + fy[k] * y + phase[k]);
            var t = 0.5 + 0.5 * s / total;
            image[y, x] = new Rgb(Lerp(a.R, b.R, t), Lerp(a.G, b.G, t), Lerp(a.B, b.B, t));
        }
    }

    /// <summary>Adds zero-mean noise of roughly <paramref name="sigma"/> grey levels to every sample.</summary>
    public static void AddNoise(RgbImage image, SeededRandom random, double sigma)
    {
        var pixels = image.Pixels;
        for (var i = 0; i < pixels.Length; i++)
        {
            // Sum of three uniforms: bell-shaped, unit variance after scaling, much cheaper than Box-Muller.
            var n = (random.NextDouble() + random.NextDouble() + random.NextDouble() - 1.5) * 2.0;
            pixels[i] = (byte)Math.Clamp((int)Math.Round(pixels[i] + sigma * n), 0, 255);
        }
    }

    private static Rgb MutedColor(SeededRandom random) =>
        ColorSpace.HsvToRgb(random.NextDouble(), random.NextDouble(0, 0.45), random.NextDouble(0.25, 0.85));

    private static byte Lerp(byte a, byte b, double t) => (byte)Math.Round(a + (b - a) * t);
}
