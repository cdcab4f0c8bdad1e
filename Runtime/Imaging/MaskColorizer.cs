namespace EMANet.Runtime.Imaging;

/// <summary>Turns label maps into pictures: a colour per label, optionally blended over the image.</summary>
public static class MaskColorizer
{
    /// <summary>Each pixel gets its label's palette colour (the VOC palette unless one is given).</summary>
    public static RgbImage Colorize(LabelMask mask, IReadOnlyList<Rgb>? palette = null)
    {
        palette ??= VocPalette.Colors;
        var image = new RgbImage(mask.Height, mask.Width);
        for (var i = 0; i < mask.Labels.Length; i++)
        {
            var label = mask.Labels[i];
            if (label >= palette.Count)
                throw new ArgumentException($"label {label} at ({i % mask.Width},{i / mask.Width}) has no colour in a palette of {palette.Count}", nameof(mask));
            var color = palette[label];
            image.Pixels[3 * i] = color.R;
            image.Pixels[3 * i + 1] = color.G;
            image.Pixels[3 * i + 2] = color.B;
        }
        return image;
    }

    /// <summary>
    /// The image blended with the colour mask: <c>(1 - alpha) * image + alpha * colour</c>, rounded.
    /// </summary>
    public static RgbImage Overlay(RgbImage image, LabelMask mask, double alpha = 0.5, IReadOnlyList<Rgb>? palette = null)
    {
        if (image.Height != mask.Height || image.Width != mask.Width)
            throw new ArgumentException($"mask is {mask.Width}x{mask.Height} but image is {image.Width}x{image.Height}", nameof(mask));
        if (alpha is < 0 or > 1 || double.IsNaN(alpha))
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must lie in [0, 1]");
        var colors = Colorize(mask, palette);
        var result = new byte[image.Pixels.Length];
        for (var i = 0; i < result.Length; i++)
            result[i] = (byte)Math.Round((1 - alpha) * image.Pixels[i] + alpha * colors.Pixels[i], MidpointRounding.AwayFromZero);
        return new RgbImage(image.Height, image.Width, result);
    }
}
