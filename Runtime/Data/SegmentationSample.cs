using EMANet.Runtime.Imaging;

namespace EMANet.Runtime.Data;

/// <summary>
/// One image with its label mask (same size; label 255 = ignore). <see cref="Id"/> names the sample
/// (e.g. "2007_000032"), <see cref="Source"/> says where it came from (a path, or the generator and index)
/// for error messages.
/// </summary>
public sealed class SegmentationSample
{
    public SegmentationSample(string id, string source, RgbImage image, LabelMask label)
    {
        if (image.Height != label.Height || image.Width != label.Width)
            throw new ArgumentException($"{source}: mask is {label.Width}x{label.Height} but image is {image.Width}x{image.Height}");
        Id = id;
        Source = source;
        Image = image;
        Label = label;
    }

    public string Id { get; }
    public string Source { get; }
    public RgbImage Image { get; }
    public LabelMask Label { get; }
    public int Height => Image.Height;
    public int Width => Image.Width;
}
