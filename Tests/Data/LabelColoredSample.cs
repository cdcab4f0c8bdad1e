using EMANet.Runtime.Data;
using EMANet.Runtime.Imaging;

namespace EMANet.Tests.Data;

/// <summary>Samples whose pixel colour encodes the label, to check that transforms keep both aligned.</summary>
internal static class LabelColoredSample
{
    public static Rgb ColorOf(byte label) => new((byte)(label * 40 + 5), (byte)(250 - label * 30), (byte)(label * 17 % 256));

    /// <summary>Blocks of 6x5 pixels with labels (bx + 2 by) mod 6, one block ignored (255).</summary>
    public static SegmentationSample Create(int height, int width, string id = "coloured")
    {
        var image = new RgbImage(height, width);
        var mask = new LabelMask(height, width);
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                var (bx, by) = (x / 6, y / 5);
                var label = (bx, by) == (1, 1) ? LabelMask.Ignore : (byte)((bx + 2 * by) % 6);
                mask[y, x] = label;
                image[y, x] = ColorOf(label);
            }
        return new SegmentationSample(id, id, image, mask);
    }
}
