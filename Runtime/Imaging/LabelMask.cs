namespace EMANet.Runtime.Imaging;

/// <summary>
/// A per-pixel class map stored row-major: <c>Labels[y * Width + x]</c>. Value <see cref="Ignore"/> (255)
/// marks pixels that carry no label (object boundaries in VOC, padding after augmentation).
/// </summary>
public sealed class LabelMask
{
    /// <summary>The label value that metrics and losses skip.</summary>
    public const byte Ignore = 255;

    public LabelMask(int height, int width, byte[] labels)
    {
        if (height <= 0 || width <= 0)
            throw new ArgumentOutOfRangeException(nameof(height), $"mask size {width}x{height} must be positive");
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.Length != checked(height * width))
            throw new ArgumentException($"a mask of {width}x{height} needs {height * width} bytes, got {labels.Length}", nameof(labels));
        Height = height;
        Width = width;
        Labels = labels;
    }

    /// <summary>A mask filled with label 0.</summary>
    public LabelMask(int height, int width) : this(height, width, new byte[checked(height * width)]) { }

    public int Height { get; }
    public int Width { get; }
    public byte[] Labels { get; }

    public byte this[int y, int x]
    {
        get => Labels[y * Width + x];
        set => Labels[y * Width + x] = value;
    }
}
