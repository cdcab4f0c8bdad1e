namespace EMANet.Runtime.Imaging;

/// <summary>
/// Resizes interleaved 8-bit rasters. Both methods map pixel centres (half-pixel convention, as OpenCV's
/// INTER_LINEAR and PyTorch's align_corners=false do): source coordinate = (destination + 0.5) * scale - 0.5.
/// </summary>
public static class Resampler
{
    /// <summary>Bilinear interpolation of each channel, rounded to the nearest byte; edges clamp.</summary>
    public static byte[] Bilinear(ReadOnlySpan<byte> source, int height, int width, int channels, int newHeight, int newWidth)
    {
        CheckSizes(source.Length, height, width, channels, newHeight, newWidth);
        var result = new byte[checked(newHeight * newWidth * channels)];
        var (x0s, x1s, xWeights) = Taps(width, newWidth);
        var (y0s, y1s, yWeights) = Taps(height, newHeight);
        for (var y = 0; y < newHeight; y++)
        {
            var row0 = y0s[y] * width * channels;
            var row1 = y1s[y] * width * channels;
            var wy = yWeights[y];
            for (var x = 0; x < newWidth; x++)
            {
                var wx = xWeights[x];
                var a = x0s[x] * channels;
                var b = x1s[x] * channels;
                var outIndex = (y * newWidth + x) * channels;
                for (var c = 0; c < channels; c++)
                {
                    var top = source[row0 + a + c] + (source[row0 + b + c] - source[row0 + a + c]) * wx;
                    var bottom = source[row1 + a + c] + (source[row1 + b + c] - source[row1 + a + c]) * wx;
                    result[outIndex + c] = (byte)Math.Clamp((int)MathF.Round(top + (bottom - top) * wy), 0, 255);
                }
            }
        }
        return result;
    }

    /// <summary>Nearest-neighbour sampling (for label maps, whose values must never be blended).</summary>
    public static byte[] Nearest(ReadOnlySpan<byte> source, int height, int width, int channels, int newHeight, int newWidth)
    {
        CheckSizes(source.Length, height, width, channels, newHeight, newWidth);
        var result = new byte[checked(newHeight * newWidth * channels)];
        var xs = new int[newWidth];
        for (var x = 0; x < newWidth; x++)
            xs[x] = Math.Min(width - 1, (int)((x + 0.5) * width / newWidth));
        for (var y = 0; y < newHeight; y++)
        {
            var sy = Math.Min(height - 1, (int)((y + 0.5) * height / newHeight));
            for (var x = 0; x < newWidth; x++)
                source.Slice((sy * width + xs[x]) * channels, channels).CopyTo(result.AsSpan((y * newWidth + x) * channels, channels));
        }
        return result;
    }

    public static RgbImage Bilinear(RgbImage image, int newHeight, int newWidth) =>
        new(newHeight, newWidth, Bilinear(image.Pixels, image.Height, image.Width, 3, newHeight, newWidth));

    public static LabelMask Nearest(LabelMask mask, int newHeight, int newWidth) =>
        new(newHeight, newWidth, Nearest(mask.Labels, mask.Height, mask.Width, 1, newHeight, newWidth));

    private static (int[] Lower, int[] Upper, float[] Weight) Taps(int size, int newSize)
    {
        var lower = new int[newSize];
        var upper = new int[newSize];
        var weight = new float[newSize];
        var scale = (double)size / newSize;
        for (var i = 0; i < newSize; i++)
        {
            var s = Math.Max(0.0, (i + 0.5) * scale - 0.5);
            var l = Math.Min((int)s, size - 1);
            lower[i] = l;
            upper[i] = Math.Min(l + 1, size - 1);
            weight[i] = (float)(s - l);
        }
        return (lower, upper, weight);
    }

    private static void CheckSizes(int length, int height, int width, int channels, int newHeight, int newWidth)
    {
        if (height <= 0 || width <= 0 || channels <= 0 || newHeight <= 0 || newWidth <= 0)
            throw new ArgumentOutOfRangeException(nameof(height), $"cannot resize {width}x{height}x{channels} to {newWidth}x{newHeight}");
        if (length != height * width * channels)
            throw new ArgumentException($"{width}x{height}x{channels} needs {height * width * channels} bytes, got {length}");
    }
}
