using EMANet.Runtime.Imaging;

namespace EMANet.Runtime.Data;

/// <summary>
/// Procedural scenes made in memory: a textured background (label 0) with two to five filled shapes
/// (circles, rectangles, triangles, rings, crosses, diamonds; label = kind + 1) at random sizes, positions
/// and rotations, later shapes occluding earlier ones, plus pixel noise. Colour narrows the class down
/// but never settles it: kinds come in hue pairs (circle and ring red, rectangle and cross green, triangle
/// and diamond blue), 20% of shapes get a random hue, and shape saturation overlaps the background's.
/// Telling the kinds apart takes shape. A scene depends only on (seed, split, index).
/// </summary>
public sealed class SyntheticShapesDataset : ISegmentationDataset
{
    /// <summary>Background plus all six shape kinds.</summary>
    public const int MaxClasses = 7;
    public const int DefaultClasses = 6;

    // Hue of each kind, in ShapeKind order: circle, rectangle, triangle, ring, cross, diamond.
    private static readonly double[] KindHues = [0.0, 0.33, 0.62, 0.0, 0.33, 0.62];
    private const double RandomHueProbability = 0.2;
    private const double NoiseSigma = 8;

    private readonly int _seed;
    private readonly SceneSplit _split;

    public SyntheticShapesDataset(int count, int height, int width, int seed, int classes = DefaultClasses, SceneSplit split = SceneSplit.Train)
    {
        if (count <= 0)
            throw new ArgumentOutOfRangeException(nameof(count), count, "a synthetic dataset needs at least one scene");
        if (height < 16 || width < 16)
            throw new ArgumentOutOfRangeException(nameof(height), $"synthetic scenes of {width}x{height} are too small (at least 16x16)");
        if (classes is < 2 or > MaxClasses)
            throw new ArgumentOutOfRangeException(nameof(classes), classes, $"synthetic shapes support 2 to {MaxClasses} classes (background plus 1 to 6 shape kinds)");
        Count = count;
        Height = height;
        Width = width;
        Classes = classes;
        _seed = seed;
        _split = split;
        ClassNames = ["background", .. Enum.GetNames<ShapeKind>().Take(classes - 1).Select(n => n.ToLowerInvariant())];
    }

    public string Name => $"synthetic-shapes/{_split.ToString().ToLowerInvariant()}";
    public int Count { get; }
    public int Classes { get; }
    public string[] ClassNames { get; }
    public int Height { get; }
    public int Width { get; }

    public SegmentationSample Get(int index)
    {
        if ((uint)index >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"{Name} has {Count} scenes");
        var random = SeededRandom.Derive(_seed, 0x5348_4150 /* "SHAP" */, (long)_split, index);
        var image = new RgbImage(Height, Width);
        var label = new LabelMask(Height, Width);
        SceneBackground.Paint(image, random);

        var shapes = random.NextInt(2, 6);
        var shortSide = Math.Min(Height, Width);
        for (var s = 0; s < shapes; s++)
        {
            var kind = (ShapeKind)random.NextInt(Classes - 1);
            var shape = new Shape(kind,
                centerX: random.NextDouble(0, Width),
                centerY: random.NextDouble(0, Height),
                radius: shortSide * random.NextDouble(0.1, 0.24),
                angle: random.NextDouble(0, 2 * Math.PI),
                random);
            var hue = random.NextBool(RandomHueProbability) ? random.NextDouble() : KindHues[(int)kind] + random.NextDouble(-0.04, 0.04);
            var saturation = random.NextDouble(0.35, 1.0); // overlaps the background's 0-0.45: colour alone cannot find every shape
            var value = random.NextDouble(0.45, 0.9);
            var shadeAngle = random.NextDouble(0, 2 * Math.PI);
            Draw(image, label, shape, hue, saturation, value, shadeAngle);
        }

        SceneBackground.AddNoise(image, random, NoiseSigma);
        return new SegmentationSample($"{index}", $"{Name}#{index} (seed {_seed})", image, label);
    }

    private static void Draw(RgbImage image, LabelMask label, Shape shape, double hue, double saturation, double value, double shadeAngle)
    {
        var reach = Shape.BoundingRadius * shape.Radius;
        var x0 = Math.Max(0, (int)Math.Floor(shape.CenterX - reach));
        var x1 = Math.Min(image.Width - 1, (int)Math.Ceiling(shape.CenterX + reach));
        var y0 = Math.Max(0, (int)Math.Floor(shape.CenterY - reach));
        var y1 = Math.Min(image.Height - 1, (int)Math.Ceiling(shape.CenterY + reach));
        var (shadeU, shadeV) = (Math.Cos(shadeAngle), Math.Sin(shadeAngle));
        var classLabel = (byte)((int)shape.Kind + 1);
        for (var y = y0; y <= y1; y++)
        for (var x = x0; x <= x1; x++)
        {
            var (u, v) = shape.ToLocal(x + 0.5, y + 0.5);
            if (!shape.Covers(u, v))
                continue;
            // A soft light gradient across the shape, so its colour is not flat.
            var shade = Math.Clamp(value * (1 + 0.2 * (u * shadeU + v * shadeV)), 0, 1);
            image[y, x] = ColorSpace.HsvToRgb(hue, saturation, shade);
            label[y, x] = classLabel;
        }
    }
}
