namespace EMANet.Runtime.IO;

/// <summary>Maps checkpoint keys to module keys for one <see cref="WeightsLayout"/>.</summary>
public sealed class KeyMapping
{
    /// <summary>The prefix nn.DataParallel / DistributedDataParallel put before every key.</summary>
    public const string DataParallelPrefix = "module.";

    public const string DefaultBackbonePrefix = "backbone.";

    private KeyMapping(WeightsLayout layout, string strippedPrefix, string backbonePrefix)
    {
        Layout = layout;
        StrippedPrefix = strippedPrefix;
        BackbonePrefix = backbonePrefix;
    }

    /// <summary>The layout in force (never <see cref="WeightsLayout.Auto"/>).</summary>
    public WeightsLayout Layout { get; }

    /// <summary>"module." when every source key carried it and <see cref="WeightsLayout.Auto"/> removed it; else empty.</summary>
    public string StrippedPrefix { get; }

    /// <summary>Where a backbone checkpoint's keys go in the module ("backbone." by default).</summary>
    public string BackbonePrefix { get; }

    /// <summary>Whether the layout maps a backbone-only checkpoint, so only module keys under <see cref="BackbonePrefix"/> are expected.</summary>
    public bool IsBackboneOnly => Layout is WeightsLayout.TorchVisionResNet or WeightsLayout.DeepStemResNet;

    /// <summary>
    /// Resolves <paramref name="layout"/> for these source keys. For <see cref="WeightsLayout.Auto"/>: a
    /// "module." prefix on every key is removed first; then keys under "backbone." mean
    /// <see cref="WeightsLayout.Native"/>, a "conv1.weight" key <see cref="WeightsLayout.TorchVisionResNet"/>,
    /// a "conv1.0.weight" key <see cref="WeightsLayout.DeepStemResNet"/>, and anything else Native.
    /// </summary>
    public static KeyMapping Create(WeightsLayout layout, IReadOnlyCollection<string> sourceKeys, string backbonePrefix = DefaultBackbonePrefix)
    {
        ArgumentNullException.ThrowIfNull(sourceKeys);
        ArgumentNullException.ThrowIfNull(backbonePrefix);
        if (layout != WeightsLayout.Auto) return new KeyMapping(layout, "", backbonePrefix);

        var stripped = DataParallelPrefixOf(sourceKeys);
        var keys = sourceKeys.Select(k => k[stripped.Length..]).ToList();
        return new KeyMapping(Detect(keys), stripped, backbonePrefix);
    }

    /// <summary>
    /// <see cref="DataParallelPrefix"/> when every key carries it (a state dict saved from nn.DataParallel or
    /// DistributedDataParallel), else empty: the prefix <see cref="Create"/> removes under <see cref="WeightsLayout.Auto"/>.
    /// </summary>
    public static string DataParallelPrefixOf(IReadOnlyCollection<string> keys) =>
        keys.Count > 0 && keys.All(k => k.StartsWith(DataParallelPrefix, StringComparison.Ordinal)) ? DataParallelPrefix : "";

    /// <summary>
    /// The layout the keys look like (see <see cref="Create"/>); never Auto. mmsegmentation's keys (any under
    /// decode_head., auxiliary_head. or backbone.stem.) and the authors' (any under extractor.) are recognised
    /// before the backbone. prefix that mmseg shares with this project's names.
    /// </summary>
    public static WeightsLayout Detect(IEnumerable<string> keys)
    {
        var set = keys.ToHashSet(StringComparer.Ordinal);
        if (set.Any(MMSegKeys.IsMMSegKey)) return WeightsLayout.MMSeg;
        if (set.Any(AuthorsKeys.IsAuthorsKey)) return WeightsLayout.Authors;
        if (set.Any(k => k.StartsWith(DefaultBackbonePrefix, StringComparison.Ordinal))) return WeightsLayout.Native;
        if (set.Contains("conv1.weight")) return WeightsLayout.TorchVisionResNet;
        if (set.Contains("conv1.0.weight")) return WeightsLayout.DeepStemResNet;
        return WeightsLayout.Native;
    }

    /// <summary>
    /// The layout as the <c>--layout</c> option names it, and the prefix removed if any: "native layout",
    /// "torchvision layout", "deep-stem layout, 'module.' prefix removed".
    /// </summary>
    public string Description =>
        LayoutName(Layout) + " layout" + (StrippedPrefix.Length > 0 ? $", '{StrippedPrefix}' prefix removed" : "");

    /// <summary>A layout's name as the CLI's <c>--layout</c> option spells it (auto, native, torchvision, deep-stem, mmseg, authors).</summary>
    public static string LayoutName(WeightsLayout layout) => layout switch
    {
        WeightsLayout.Auto => "auto",
        WeightsLayout.Native => "native",
        WeightsLayout.TorchVisionResNet => "torchvision",
        WeightsLayout.DeepStemResNet => "deep-stem",
        WeightsLayout.MMSeg => "mmseg",
        WeightsLayout.Authors => "authors",
        _ => throw new ArgumentOutOfRangeException(nameof(layout), layout, "unknown weights layout"),
    };

    /// <summary>The <see cref="Description"/>: a mapping written into a message names its layout.</summary>
    public override string ToString() => Description;

    /// <summary>The module key for a source key, or null when the layout drops it (a ResNet's fc.*).</summary>
    public string? Map(string sourceKey)
    {
        ArgumentNullException.ThrowIfNull(sourceKey);
        string key = StrippedPrefix.Length > 0 && sourceKey.StartsWith(StrippedPrefix, StringComparison.Ordinal)
            ? sourceKey[StrippedPrefix.Length..]
            : sourceKey;
        if (Layout == WeightsLayout.MMSeg) return MMSegKeys.ToNative(key);
        if (Layout == WeightsLayout.Authors) return AuthorsKeys.ToNative(key);
        if (!IsBackboneOnly) return key;
        if (key.StartsWith("fc.", StringComparison.Ordinal)) return null;
        return BackbonePrefix + key;
    }

    /// <summary>Whether a module key is one this layout is expected to fill.</summary>
    public bool Covers(string moduleKey) => !IsBackboneOnly || moduleKey.StartsWith(BackbonePrefix, StringComparison.Ordinal);
}
