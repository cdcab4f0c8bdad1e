using System.Collections.Concurrent;

namespace EMANet.Runtime.Data;

/// <summary>
/// The items of one Fashion-MNIST split: 28x28 grey images and their classes (0-9), loaded once per
/// process and directory, then shared.
/// </summary>
public sealed class FashionMnistArchive
{
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";
    public const int Side = 28;
    public const string InstallHint = "install it with: apt-get install dataset-fashion-mnist";

    public static IReadOnlyList<string> ItemClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    private static readonly ConcurrentDictionary<(string, SceneSplit), Lazy<FashionMnistArchive>> Cache = new();

    private FashionMnistArchive(byte[] pixels, byte[] labels, string imagesPath)
    {
        Pixels = pixels;
        Labels = labels;
        ImagesPath = imagesPath;
    }

    /// <summary>Count x 28 x 28 bytes, row-major, 0 = background.</summary>
    public byte[] Pixels { get; }
    public byte[] Labels { get; }
    public string ImagesPath { get; }
    public int Count => Labels.Length;

    public ReadOnlySpan<byte> Item(int index) => Pixels.AsSpan(index * Side * Side, Side * Side);

    /// <summary>The training items (60,000) for <see cref="SceneSplit.Train"/>, the test items (10,000) for Val.</summary>
    public static FashionMnistArchive Load(string directory, SceneSplit split)
    {
        var key = (Path.GetFullPath(directory), split);
        var lazy = Cache.GetOrAdd(key, k => new Lazy<FashionMnistArchive>(() => LoadUncached(k.Item1, k.Item2)));
        try
        {
            return lazy.Value;
        }
        catch
        {
            Cache.TryRemove(new KeyValuePair<(string, SceneSplit), Lazy<FashionMnistArchive>>(key, lazy)); // let a later call retry
            throw;
        }
    }

    /// <summary>Whether both files of both splits are present in <paramref name="directory"/>.</summary>
    public static bool IsInstalled(string directory = DefaultDirectory) =>
        FindFile(directory, "train-images-idx3-ubyte") is not null && FindFile(directory, "train-labels-idx1-ubyte") is not null &&
        FindFile(directory, "t10k-images-idx3-ubyte") is not null && FindFile(directory, "t10k-labels-idx1-ubyte") is not null;

    private static FashionMnistArchive LoadUncached(string directory, SceneSplit split)
    {
        var prefix = split == SceneSplit.Train ? "train" : "t10k";
        var imagesPath = RequireFile(directory, $"{prefix}-images-idx3-ubyte");
        var labelsPath = RequireFile(directory, $"{prefix}-labels-idx1-ubyte");
        var images = IdxFile.Read(imagesPath);
        var labels = IdxFile.Read(labelsPath);
        if (images.Shape.Length != 3 || images.Shape[1] != Side || images.Shape[2] != Side)
            throw new DatasetException($"{imagesPath}: expected N x {Side} x {Side} images, found {string.Join(" x ", images.Shape)}");
        if (labels.Shape.Length != 1 || labels.Shape[0] != images.Shape[0])
            throw new DatasetException($"{labelsPath}: expected {images.Shape[0]} labels to match {imagesPath}, found shape {string.Join(" x ", labels.Shape)}");
        for (var i = 0; i < labels.Data.Length; i++)
            if (labels.Data[i] >= ItemClassNames.Count)
                throw new DatasetException($"{labelsPath}: label {labels.Data[i]} of item {i} is outside 0-9");
        return new FashionMnistArchive(images.Data, labels.Data, imagesPath);
    }

    private static string? FindFile(string directory, string name)
    {
        foreach (var candidate in new[] { name + ".gz", name })
        {
            var path = Path.Combine(directory, candidate);
            if (File.Exists(path))
                return path;
        }
        return null;
    }

    private static string RequireFile(string directory, string name) =>
        FindFile(directory, name) ?? throw new DatasetException(
            Directory.Exists(directory)
                ? $"Fashion-MNIST file {Path.Combine(directory, name)}(.gz) is missing; {InstallHint}"
                : $"Fashion-MNIST directory {directory} does not exist; {InstallHint}");
}
