namespace EMANet.Runtime.Data;

/// <summary>Opens a dataset from the short spec the command line takes.</summary>
public static class DatasetFactory
{
    public const string Usage =
        "synthetic | fashion-mnist[:DIR] | voc:DIR | folder:images=DIR,masks=DIR,classes=N[,list=FILE][,image-ext=.jpg][,mask-ext=.png][,names=a|b|...]";

    public static ISegmentationDataset Parse(string spec, DatasetOptions? options = null)
    {
        options ??= new DatasetOptions();
        var colon = spec.IndexOf(':');
        var kind = (colon < 0 ? spec : spec[..colon]).Trim().ToLowerInvariant();
        var argument = colon < 0 ? null : spec[(colon + 1)..];
        switch (kind)
        {
            case "synthetic":
                NoArgument(spec, argument);
                var split = SceneSplitOf(spec, options.Split);
                var side = options.Size ?? 96;
                return new SyntheticShapesDataset(options.Count ?? (split == SceneSplit.Train ? 1000 : 200), side, side, options.Seed,
                    options.Classes ?? SyntheticShapesDataset.DefaultClasses, split);
            case "fashion-mnist":
                var fashionSplit = SceneSplitOf(spec, options.Split);
                return new FashionMnistScenesDataset(string.IsNullOrEmpty(argument) ? FashionMnistArchive.DefaultDirectory : argument,
                    fashionSplit, options.Count ?? (fashionSplit == SceneSplit.Train ? 2000 : 400), options.Size ?? 128, options.Seed);
            case "voc":
                if (string.IsNullOrEmpty(argument))
                    throw new ArgumentException($"dataset '{spec}': give the VOC directory, e.g. voc:/data/VOCdevkit/VOC2012");
                return VocDataset.Open(argument, options.Split, options.SkipInvalid, options.Warn);
            case "folder":
                return new FolderSegmentationDataset(ParseFolder(spec, argument), options.SkipInvalid, options.Warn);
            default:
                throw new ArgumentException($"unknown dataset '{spec}'; expected {Usage}");
        }
    }

    private static FolderDatasetSpec ParseFolder(string spec, string? argument)
    {
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in (argument ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0)
                throw new ArgumentException($"dataset '{spec}': '{part}' is not key=value; expected {Usage}");
            fields[part[..eq].Trim()] = part[(eq + 1)..].Trim();
        }
        string Required(string key) => fields.TryGetValue(key, out var v) && v.Length > 0
            ? v
            : throw new ArgumentException($"dataset '{spec}': '{key}=' is required; expected {Usage}");
        var known = new[] { "images", "masks", "classes", "list", "image-ext", "mask-ext", "names" };
        var unknown = fields.Keys.FirstOrDefault(k => !known.Contains(k, StringComparer.OrdinalIgnoreCase));
        if (unknown is not null)
            throw new ArgumentException($"dataset '{spec}': unknown key '{unknown}'; expected {Usage}");
        if (!int.TryParse(Required("classes"), out var classes) || classes < 1)
            throw new ArgumentException($"dataset '{spec}': classes must be a positive integer, got '{fields["classes"]}'");
        return new FolderDatasetSpec
        {
            Name = "folder",
            ImageDirectory = Required("images"),
            MaskDirectory = Required("masks"),
            ListFile = fields.GetValueOrDefault("list"),
            Classes = classes,
            ClassNames = fields.TryGetValue("names", out var names) ? names.Split('|') : null,
            ImageExtension = Extension(fields.GetValueOrDefault("image-ext") ?? ".jpg"),
            MaskExtension = Extension(fields.GetValueOrDefault("mask-ext") ?? ".png"),
        };
    }

    private static string Extension(string value) => value.StartsWith('.') ? value : "." + value;

    private static void NoArgument(string spec, string? argument)
    {
        if (!string.IsNullOrEmpty(argument))
            throw new ArgumentException($"dataset '{spec}': 'synthetic' takes no argument (use the count, size, seed and classes options)");
    }

    private static SceneSplit SceneSplitOf(string spec, string split) => split.ToLowerInvariant() switch
    {
        "train" => SceneSplit.Train,
        "val" => SceneSplit.Val,
        _ => throw new ArgumentException($"dataset '{spec}' has the splits 'train' and 'val', not '{split}'"),
    };
}
