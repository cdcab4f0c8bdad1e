using System.Globalization;
using EMANet.Runtime.Imaging;
using EMANet.Runtime.IO;
using SkiaSharp;
using static TorchSharp.torch;

namespace EMANet.Runtime.Reports;

/// <summary>
/// A picture of an EMA unit's attention: the input image on the left, then the responsibility maps
/// z[:, k] (N = h x w pixels of the unit's feature map, upsampled bilinearly to the tile size) of
/// the bases that explain the most pixels, each in the viridis colour map (bright = the pixels that
/// base explains) and labelled with its index and its share of the pixels (argmax over bases).
/// </summary>
public static class AttentionFigure
{
    /// <summary>Side of one map's tile, in pixels.</summary>
    public const int TileSize = 136;

    private const int Gap = 8;
    private const int LabelHeight = 20;
    private const int Margin = 12;

    /// <summary>
    /// Renders the figure as PNG bytes. <paramref name="responsibilities"/> is N x K (one image's
    /// z, N = <paramref name="featureHeight"/> x <paramref name="featureWidth"/>, rows summing to 1);
    /// <paramref name="image"/>, when given, is drawn beside the maps.
    /// </summary>
    /// <exception cref="ArgumentException">The responsibilities are not N x K with N = h x w.</exception>
    public static byte[] RenderPng(Tensor responsibilities, int featureHeight, int featureWidth, RgbImage? image, int bases = 16)
    {
        if (responsibilities.dim() != 2 || responsibilities.shape[0] != (long)featureHeight * featureWidth || featureHeight <= 0 || featureWidth <= 0)
            throw new ArgumentException(
                $"responsibilities are [{string.Join(", ", responsibilities.shape)}]; expected N x K with N = {featureHeight} x {featureWidth}", nameof(responsibilities));
        var (maps, shares, order) = Maps(responsibilities, featureHeight, featureWidth, bases);
        int count = order.Length;
        int columns = (int)Math.Ceiling(Math.Sqrt(count));
        int rows = (count + columns - 1) / columns;
        int gridHeight = rows * (TileSize + LabelHeight) + (rows - 1) * Gap;
        int imageWidth = image is null ? 0 : (int)Math.Round((double)image.Width / image.Height * gridHeight);
        int width = 2 * Margin + (image is null ? 0 : imageWidth + 2 * Gap) + columns * TileSize + (columns - 1) * Gap;
        int height = 2 * Margin + gridHeight;

        using var surface = SKSurface.Create(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var font = new SKFont(SKTypeface.Default, 11);
        using var text = new SKPaint { Color = SKColors.Black, IsAntialias = true };
        var sampling = new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None);

        int left = Margin;
        if (image is not null)
        {
            using var picture = ToBitmap(image.Width, image.Height, (x, y) => image[y, x]);
            canvas.DrawText("input", left, Margin + 14, font, text);
            canvas.DrawImage(SKImage.FromBitmap(picture), new SKRect(left, Margin + LabelHeight, left + imageWidth, Margin + gridHeight), sampling);
            left += imageWidth + 2 * Gap;
        }
        var colormap = new ScottPlot.Colormaps.Viridis();
        for (int i = 0; i < count; i++)
        {
            int k = order[i];
            int x0 = left + i % columns * (TileSize + Gap);
            int y0 = Margin + i / columns * (TileSize + LabelHeight + Gap);
            canvas.DrawText(string.Create(CultureInfo.InvariantCulture, $"base {k} ({shares[k] * 100:F0}% of pixels)"), x0, y0 + 14, font, text);
            var map = maps[k];
            using var tile = ToBitmap(featureWidth, featureHeight, (x, y) =>
            {
                var c = colormap.GetColor(map[y * featureWidth + x]);
                return new Rgb(c.R, c.G, c.B);
            });
            canvas.DrawImage(SKImage.FromBitmap(tile), new SKRect(x0, y0 + LabelHeight, x0 + TileSize, y0 + LabelHeight + TileSize), sampling);
        }
        using var snapshot = surface.Snapshot();
        using var png = snapshot.Encode(SKEncodedImageFormat.Png, 100);
        return png.ToArray();
    }

    /// <summary>Writes <see cref="RenderPng"/> atomically.</summary>
    public static void SavePng(string path, Tensor responsibilities, int featureHeight, int featureWidth, RgbImage? image, int bases = 16) =>
        AtomicFile.WriteAllBytes(path, RenderPng(responsibilities, featureHeight, featureWidth, image, bases));

    /// <summary>Each base's map scaled to 0..1 (min to max), each base's share of the pixels, and the <paramref name="bases"/> largest shares in decreasing order.</summary>
    private static (float[][] Maps, double[] Shares, int[] Order) Maps(Tensor responsibilities, int h, int w, int bases)
    {
        using var scope = NewDisposeScope();
        var z = responsibilities.to(ScalarType.Float32).cpu().contiguous();     // N x K
        long n = z.shape[0], k = z.shape[1];
        var values = z.data<float>().ToArray();
        var maps = new float[k][];
        var counts = new int[k];
        for (int b = 0; b < k; b++) maps[b] = new float[n];
        for (int p = 0; p < n; p++)
        {
            int best = 0;
            for (int b = 0; b < k; b++)
            {
                var v = values[p * k + b];
                maps[b][p] = v;
                if (v > values[p * k + best]) best = b;
            }
            counts[best]++;
        }
        foreach (var map in maps)
        {
            float low = map.Min(), high = map.Max(), range = Math.Max(high - low, 1e-12f);
            for (int p = 0; p < map.Length; p++) map[p] = (map[p] - low) / range;
        }
        var shares = counts.Select(c => (double)c / n).ToArray();
        var order = Enumerable.Range(0, (int)k).OrderByDescending(b => counts[b]).ThenBy(b => b).Take(Math.Max(1, bases)).ToArray();
        return (maps, shares, order);
    }

    private static SKBitmap ToBitmap(int width, int height, Func<int, int, Rgb> pixel)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                var c = pixel(x, y);
                bitmap.SetPixel(x, y, new SKColor(c.R, c.G, c.B));
            }
        return bitmap;
    }
}
