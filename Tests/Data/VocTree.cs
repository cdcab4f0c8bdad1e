using EMANet.Runtime.Imaging;
using EMANet.Tests.Imaging;

namespace EMANet.Tests.Data;

/// <summary>A tiny VOC2012 directory: 16x16 JPEGs (the quadrants fixture) with palette masks.</summary>
internal sealed class VocTree : IDisposable
{
    private readonly TempDirectory _dir = new();

    public VocTree(params string[] ids)
    {
        Root = _dir.Combine("VOCdevkit", "VOC2012");
        foreach (var sub in new[] { "JPEGImages", "SegmentationClass", Path.Combine("ImageSets", "Segmentation") })
            Directory.CreateDirectory(Path.Combine(Root, sub));
        foreach (var id in ids)
            AddSample(id, MaskFor(id));
        File.WriteAllLines(List("train"), ids);
        File.WriteAllLines(List("val"), ids.Take(1));
    }

    public string Devkit => _dir.Combine("VOCdevkit");
    public string Root { get; }

    public string Image(string id) => Path.Combine(Root, "JPEGImages", id + ".jpg");
    public string Mask(string id) => Path.Combine(Root, "SegmentationClass", id + ".png");
    public string List(string split) => Path.Combine(Root, "ImageSets", "Segmentation", split + ".txt");

    /// <summary>Label (x + y + id length) mod 21, 255 on the diagonal.</summary>
    public static LabelMask MaskFor(string id, int height = 16, int width = 16)
    {
        var mask = new LabelMask(height, width);
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                mask[y, x] = x == y ? LabelMask.Ignore : (byte)((x + y + id.Length) % 21);
        return mask;
    }

    public void AddSample(string id, LabelMask mask)
    {
        File.Copy(TestFiles.Fixture("quadrants.jpg"), Image(id), overwrite: true);
        PngWriter.WriteIndexed(Mask(id), mask);
    }

    public void Dispose() => _dir.Dispose();
}
