namespace EMANet.Runtime.Data;

/// <summary>
/// PASCAL VOC 2012 (and the SBD "trainaug" extension) in its usual layout: JPEGImages/*.jpg,
/// SegmentationClass/*.png (palette) or SegmentationClassAug/*.png (grey), ImageSets/Segmentation/{split}.txt.
/// 21 classes; 255 marks object boundaries and is ignored.
/// </summary>
public static class VocDataset
{
    public const int ClassCount = 21;

    public static IReadOnlyList<string> ClassNames { get; } =
    [
        "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
        "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
    ];

    /// <param name="root">The VOC2012 directory, or a directory holding VOC2012/ or VOCdevkit/VOC2012/.</param>
    /// <param name="split">"train", "val", "trainaug" (list trainaug.txt or train_aug.txt, masks from
    /// SegmentationClassAug) or the name of any other list in ImageSets/Segmentation.</param>
    public static FolderSegmentationDataset Open(string root, string split = "train", bool skipInvalid = false, Action<string>? warn = null)
    {
        var voc = ResolveRoot(root);
        var lists = Path.Combine(voc, "ImageSets", "Segmentation");
        var listNames = split == "trainaug" ? new[] { "trainaug.txt", "train_aug.txt" } : [split + ".txt"];
        var listFile = listNames.Select(n => Path.Combine(lists, n)).FirstOrDefault(File.Exists);
        if (listFile is null)
        {
            var found = Directory.Exists(lists)
                ? string.Join(", ", Directory.EnumerateFiles(lists, "*.txt").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal))
                : "none: the directory is missing";
            throw new DatasetException($"{Path.Combine(lists, listNames[0])}: VOC split list is missing (splits found: {found})");
        }

        var classMasks = Path.Combine(voc, "SegmentationClass");
        var augMasks = Path.Combine(voc, "SegmentationClassAug");
        var masks = split == "trainaug" || !Directory.Exists(classMasks) ? augMasks : classMasks;
        if (!Directory.Exists(masks))
            throw new DatasetException($"{masks}: VOC mask directory is missing" +
                (split == "trainaug" ? " (trainaug needs the SBD masks in SegmentationClassAug)" : ""));

        return new FolderSegmentationDataset(new FolderDatasetSpec
        {
            Name = $"voc/{split}",
            ImageDirectory = Path.Combine(voc, "JPEGImages"),
            MaskDirectory = masks,
            ListFile = listFile,
            ListRoot = voc,
            Classes = ClassCount,
            ClassNames = ClassNames,
        }, skipInvalid, warn);
    }

    private static string ResolveRoot(string root)
    {
        foreach (var candidate in new[] { root, Path.Combine(root, "VOC2012"), Path.Combine(root, "VOCdevkit", "VOC2012") })
            if (Directory.Exists(Path.Combine(candidate, "JPEGImages")))
                return candidate;
        throw new DatasetException($"{root}: not a VOC directory (no JPEGImages/ in it, in VOC2012/ or in VOCdevkit/VOC2012/)");
    }
}
