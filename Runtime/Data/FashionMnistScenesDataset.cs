using EMANet.Runtime.Imaging;

namespace EMANet.Runtime.Data;

/// <summary>
/// Scenes composed from real Fashion-MNIST items: two to four clothing items, each tinted with a random
/// colour, scaled to 30-60% of the scene side and placed at random (partly outside the frame at most by
/// a quarter), on a textured background. An item pixel is drawn with opacity min(1, intensity / 128) and
/// labelled item class + 1 where its intensity is at least 64 (the item dominates the pixel); later items
/// occlude earlier ones. Train scenes use the 60,000 training items, val scenes the 10,000 test items.
/// A scene depends only on (seed, split, index).
/// </summary>
public sealed class FashionMnistScenesDataset : ISegmentationDataset
{
    public const int LabelThreshold = 64;
    private const double OpaqueIntensity = 128;
    private const double NoiseSigma = 6;

    private readonly FashionMnistArchive _items;
    private readonly int _seed;
    private readonly SceneSplit _split;

    public FashionMnistScenesDataset(string directory = FashionMnistArchive.DefaultDirectory, SceneSplit split = SceneSplit.Train,
        int count = 2000, int size = 128, int seed = 0)
    {
        if (count <= 0)
            throw new ArgumentOutOfRangeException(nameof(count), count, "a scene dataset needs at least one scene");
        if (size < 32)
            throw new ArgumentOutOfRangeException(nameof(size), size, "Fashion-MNIST scenes need a side of at least 32 pixels");
        _items = FashionMnistArchive.Load(directory, split);
        _seed = seed;
        _split = split;
        Count = count;
        Size = size;
    }

    public string Name => $"fashion-mnist-scenes/{_split.ToString().ToLowerInvariant()}";
    public int Count { get; }
    public int Classes => FashionMnistArchive.ItemClassNames.Count + 1;
    public string[] ClassNames { get; } = ["background", .. FashionMnistArchive.ItemClassNames];
    public int Size { get; }

    /// <summary>How many source items the split draws from (60,000 or 10,000 with the real files).</summary>
    public int SourceItems => _items.Count;

    public SegmentationSample Get(int index)
    {
        if ((uint)index >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"{Name} has {Count} scenes");
        var random = SeededRandom.Derive(_seed, 0x464D_4E53 /* "FMNS" */, (long)_split, index);
        var image = new RgbImage(Size, Size);
        var label = new LabelMask(Size, Size);
        SceneBackground.Paint(image, random);

        var items = random.NextInt(2, 5);
        for (var n = 0; n < items; n++)
        {
            var item = random.NextInt(_items.Count);
            var side = (int)Math.Round(Size * random.NextDouble(0.3, 0.6));
            var top = random.NextInt(-side / 4, Size - 3 * side / 4 + 1);
            var left = random.NextInt(-side / 4, Size - 3 * side / 4 + 1);
            var tint = ColorSpace.HsvToRgb(random.NextDouble(), random.NextDouble(0.4, 1.0), random.NextDouble(0.6, 1.0));
            var intensity = Resampler.Bilinear(_items.Item(item), FashionMnistArchive.Side, FashionMnistArchive.Side, 1, side, side);
            Composite(image, label, intensity, side, top, left, tint, (byte)(_items.Labels[item] + 1));
        }

        SceneBackground.AddNoise(image, random, NoiseSigma);
        return new SegmentationSample($"{index}", $"{Name}#{index} (seed {_seed}, items from {_items.ImagesPath})", image, label);
    }

    private static void Composite(RgbImage image, LabelMask label, byte[] intensity, int side, int top, int left, Rgb tint, byte classLabel)
    {
        for (var y = Math.Max(0, -top); y < side && top + y < image.Height; y++)
        for (var x = Math.Max(0, -left); x < side && left + x < image.Width; x++)
        {
            int i = intensity[y * side + x];
            if (i == 0)
                continue;
            var alpha = Math.Min(1.0, i / OpaqueIntensity);
            var shade = 0.35 + 0.65 * i / 255.0;
            var under = image[top + y, left + x];
            image[top + y, left + x] = new Rgb(
                Blend(under.R, tint.R * shade, alpha),
                Blend(under.G, tint.G * shade, alpha),
                Blend(under.B, tint.B * shade, alpha));
            if (i >= LabelThreshold)
                label[top + y, left + x] = classLabel;
        }
    }

    private static byte Blend(byte under, double over, double alpha) =>
        (byte)Math.Clamp((int)Math.Round(under + (over - under) * alpha), 0, 255);
}
