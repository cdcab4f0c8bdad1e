namespace EMANet.Runtime.IO;

/// <summary>
/// mmsegmentation's state-dict names to this project's (<see cref="WeightsLayout.MMSeg"/>). The networks declared for
/// mmseg checkpoints (Models/MMSeg) name their fields as mmseg names its modules, so most keys only lose their head's
/// prefix; the renames are:
/// <list type="bullet">
/// <item><c>backbone.stem.0/1/3/4/6.</c> (ResNetV1c's deep stem: conv, BN, ReLU, conv, BN, ReLU, conv, BN, ReLU) to
/// <c>backbone.conv1.0/1/3/4/6.</c>, and its last BN <c>backbone.stem.7.</c> to <c>backbone.bn1.</c> (this project's
/// ResNet keeps torchvision's names; the rest of mmseg's ResNet, <c>layerN.M.convK/bnK/downsample.0/1</c>, already is);</item>
/// <item><c>decode_head.X</c> to <c>X</c> (<c>decode_head.ema_in_conv.conv.weight</c> to <c>ema_in_conv.conv.weight</c>,
/// <c>decode_head.ema_module.bases</c> to <c>ema_module.bases</c>);</item>
/// <item><c>auxiliary_head.X</c> to <c>auxiliary_X</c> (<c>auxiliary_head.conv_seg.weight</c> to
/// <c>auxiliary_conv_seg.weight</c>);</item>
/// <item>in either head, an FCN head's <c>convs.N.</c> to <c>convN.</c> (<c>auxiliary_head.convs.0.conv.weight</c> to
/// <c>auxiliary_conv0.conv.weight</c>).</item>
/// </list>
/// ConvModule's <c>conv</c> and <c>bn</c> children are this project's ConvBlock keys, so they stay.
/// </summary>
public static class MMSegKeys
{
    public const string DecodeHead = "decode_head.";
    public const string AuxiliaryHead = "auxiliary_head.";
    public const string Stem = "backbone.stem.";

    /// <summary>Where the auxiliary head's modules go: field names start with this.</summary>
    public const string AuxiliaryFieldPrefix = "auxiliary_";

    /// <summary>Whether a key can only be mmsegmentation's (a head's, or ResNetV1c's stem).</summary>
    public static bool IsMMSegKey(string key) =>
        key.StartsWith(DecodeHead, StringComparison.Ordinal) || key.StartsWith(AuxiliaryHead, StringComparison.Ordinal)
        || key.StartsWith(Stem, StringComparison.Ordinal);

    /// <summary>This project's key for an mmseg key (see the class summary); keys outside the renames are kept.</summary>
    public static string ToNative(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.StartsWith(Stem, StringComparison.Ordinal))
        {
            var rest = key[Stem.Length..];
            int dot = rest.IndexOf('.');
            if (dot > 0 && int.TryParse(rest[..dot], out int index))
                return index == 7 ? "backbone.bn1." + rest[(dot + 1)..] : "backbone.conv1." + rest;
            return key;
        }
        if (key.StartsWith(DecodeHead, StringComparison.Ordinal)) return HeadModule(key[DecodeHead.Length..]);
        if (key.StartsWith(AuxiliaryHead, StringComparison.Ordinal)) return AuxiliaryFieldPrefix + HeadModule(key[AuxiliaryHead.Length..]);
        return key;
    }

    /// <summary>"convs.0.conv.weight" to "conv0.conv.weight"; anything else as it is.</summary>
    private static string HeadModule(string key)
    {
        const string convs = "convs.";
        if (!key.StartsWith(convs, StringComparison.Ordinal)) return key;
        var rest = key[convs.Length..];
        int dot = rest.IndexOf('.');
        return dot > 0 && int.TryParse(rest[..dot], out _) ? "conv" + rest : key;
    }
}
