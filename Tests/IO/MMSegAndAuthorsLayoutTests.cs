using EMANet.Runtime.IO;

namespace EMANet.Tests.IO;

/// <summary>The mmseg and authors key layouts: detection from the keys, and the renames.</summary>
public class MMSegAndAuthorsLayoutTests
{
    [Theory]
    [InlineData("backbone.stem.0.weight", "backbone.conv1.0.weight")]
    [InlineData("backbone.stem.1.running_mean", "backbone.conv1.1.running_mean")]
    [InlineData("backbone.stem.6.weight", "backbone.conv1.6.weight")]
    [InlineData("backbone.stem.7.weight", "backbone.bn1.weight")]
    [InlineData("backbone.stem.7.num_batches_tracked", "backbone.bn1.num_batches_tracked")]
    [InlineData("backbone.layer3.5.conv2.weight", "backbone.layer3.5.conv2.weight")]
    [InlineData("backbone.layer1.0.downsample.1.running_var", "backbone.layer1.0.downsample.1.running_var")]
    [InlineData("decode_head.ema_in_conv.conv.weight", "ema_in_conv.conv.weight")]
    [InlineData("decode_head.ema_in_conv.bn.running_mean", "ema_in_conv.bn.running_mean")]
    [InlineData("decode_head.ema_mid_conv.conv.bias", "ema_mid_conv.conv.bias")]
    [InlineData("decode_head.ema_module.bases", "ema_module.bases")]
    [InlineData("decode_head.conv_seg.weight", "conv_seg.weight")]
    [InlineData("auxiliary_head.convs.0.conv.weight", "auxiliary_conv0.conv.weight")]
    [InlineData("auxiliary_head.convs.0.bn.bias", "auxiliary_conv0.bn.bias")]
    [InlineData("auxiliary_head.conv_seg.bias", "auxiliary_conv_seg.bias")]
    [InlineData("decode_head.convs.1.conv.weight", "conv1.conv.weight")]
    public void MMSegKeys_MapToTheDeclaredFieldNames(string mmseg, string native) =>
        Assert.Equal(native, KeyMapping.Create(WeightsLayout.MMSeg, [mmseg]).Map(mmseg));

    [Theory]
    [InlineData("extractor.0.0.weight", "backbone.conv1.0.weight")]
    [InlineData("extractor.0.4.running_var", "backbone.conv1.4.running_var")]
    [InlineData("extractor.1.weight", "backbone.bn1.weight")]
    [InlineData("extractor.4.0.downsample.0.weight", "backbone.layer1.0.downsample.0.weight")]
    [InlineData("extractor.6.22.conv2.weight", "backbone.layer3.22.conv2.weight")]
    [InlineData("extractor.7.2.bn3.bias", "backbone.layer4.2.bn3.bias")]
    [InlineData("fc0.conv.weight", "fc0.conv.weight")]
    [InlineData("emau.mu", "emau.mu")]
    [InlineData("emau.conv2.1.running_mean", "emau.conv2.1.running_mean")]
    [InlineData("fc1.0.conv.weight", "fc1.conv.weight")]
    [InlineData("fc1.0.bn.num_batches_tracked", "fc1.bn.num_batches_tracked")]
    [InlineData("fc2.bias", "fc2.bias")]
    public void AuthorsKeys_MapToEmaNetR101Names(string authors, string native) =>
        Assert.Equal(native, KeyMapping.Create(WeightsLayout.Authors, [authors]).Map(authors));

    [Theory]
    [InlineData(WeightsLayout.MMSeg, "backbone.stem.0.weight", "backbone.layer1.0.conv1.weight")]
    [InlineData(WeightsLayout.MMSeg, "backbone.layer1.0.conv1.weight", "decode_head.conv_seg.weight")]
    [InlineData(WeightsLayout.MMSeg, "module.backbone.stem.0.weight", "module.auxiliary_head.conv_seg.weight")]
    [InlineData(WeightsLayout.Authors, "extractor.0.0.weight", "fc2.weight")]
    [InlineData(WeightsLayout.Native, "backbone.conv1.0.weight", "ema_module.bases")]
    [InlineData(WeightsLayout.Native, "backbone.conv1.0.weight", "auxiliary_conv_seg.weight")]
    [InlineData(WeightsLayout.DeepStemResNet, "conv1.0.weight", "layer1.0.conv1.weight")]
    public void Auto_DetectsTheLayout(WeightsLayout expected, string key1, string key2)
    {
        var mapping = KeyMapping.Create(WeightsLayout.Auto, [key1, key2]);
        Assert.Equal(expected, mapping.Layout);
    }

    [Fact]
    public void Descriptions_NameTheLayoutsAsTheCliSpellsThem()
    {
        Assert.Equal("mmseg", KeyMapping.LayoutName(WeightsLayout.MMSeg));
        Assert.Equal("authors", KeyMapping.LayoutName(WeightsLayout.Authors));
        Assert.Equal("mmseg layout, 'module.' prefix removed",
            KeyMapping.Create(WeightsLayout.Auto, ["module.decode_head.conv_seg.weight"]).Description);
    }
}
