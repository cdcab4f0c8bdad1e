namespace EMANet.Runtime.Data;

/// <summary>
/// Where a folder dataset's files are. Without <see cref="ListFile"/> every file with
/// <see cref="ImageExtension"/> in <see cref="ImageDirectory"/> is a sample (sorted by name) and its mask is
/// the file of the same name with <see cref="MaskExtension"/> in <see cref="MaskDirectory"/>. A list file
/// holds one sample per line: either an id ("2007_000032") or two paths, image and mask, relative to
/// <see cref="ListRoot"/> (default: the parent of the image directory; a leading '/' is ignored, as in
/// DeepLab's list files). Empty lines and lines starting with '#' are skipped.
/// </summary>
public sealed record FolderDatasetSpec
{
    public required string ImageDirectory { get; init; }
    public required string MaskDirectory { get; init; }
    public string? ListFile { get; init; }
    public string? ListRoot { get; init; }

    /// <summary>Number of classes, background included; mask values must be below it or 255.</summary>
    public required int Classes { get; init; }

    /// <summary>One per class; "class0", "class1", ... when absent.</summary>
    public IReadOnlyList<string>? ClassNames { get; init; }

    public string ImageExtension { get; init; } = ".jpg";
    public string MaskExtension { get; init; } = ".png";
    public string Name { get; init; } = "folder";
}
