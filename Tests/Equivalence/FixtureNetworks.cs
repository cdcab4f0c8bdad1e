using EMANet.Runtime.Blocks;
using TorchSharp.Modules;

namespace EMANet.Tests.Equivalence;

// The architectures of tools/fixtures/make_fixtures.py, declared with the attributes.

[SegmentationNetwork("fixture-ema-head", Classes = 5, InputChannels = 64, InputHeight = 9, InputWidth = 11)]
public partial class FixtureEmaHead
{
    [ConvBnRelu(32, 3)] private readonly ConvBlock fc0;
    [EmaUnit(Bases = 8, Iterations = 3)] private readonly EmaUnit emau;
    [ConvBnRelu(16, 3, Dropout = 0.1)] private readonly ConvBlock fc1;
    [Classifier] private readonly Conv2d fc2;
}

[SegmentationNetwork("fixture-emanet-small", Classes = 5, InputHeight = 65, InputWidth = 65)]
public partial class FixtureEmaNetSmall
{
    [ResNet(50, Stem = ResNetStem.Deep, OutputStride = 8, WidthMultiplier = 0.125)] private readonly ResNet backbone;
    [ConvBnRelu(32, 3)] private readonly ConvBlock fc0;
    [EmaUnit(Bases = 8, Iterations = 3)] private readonly EmaUnit emau;
    [ConvBnRelu(16, 3, Dropout = 0.1)] private readonly ConvBlock fc1;
    [Classifier] private readonly Conv2d fc2;
    [Upsample(SizeOf = "input", AlignCorners = true)] private readonly BilinearUpsample upsample;
}

[SegmentationNetwork("fixture-torchvision-r18", Classes = 10, InputHeight = 64, InputWidth = 64)]
public partial class FixtureTorchVisionResNet18
{
    [ResNet(18, Stem = ResNetStem.TorchVision, OutputStride = 32, WidthMultiplier = 0.125)] internal readonly ResNet backbone;
    [Classifier] private readonly Conv2d classifier;
    [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
}

/// <summary>
/// mmseg-emanet-r50-d8 at reduced widths (tools/fixtures/make_mmseg_fixture.py): ResNetV1c-50 with stem 8-8-16 and planes
/// 8..64, EMAHead with 32 EMA channels, 16 channels and 8 bases, FCN auxiliary head; every language feature and key kind
/// of the full network (stem widths, contracted dilation, no multi-grid, frozen ema_mid_conv, the MMSeg EMA unit, layer4
/// into a concat, align_corners = false for both resizes).
/// </summary>
[SegmentationNetwork("fixture-mmseg-emanet-small", Classes = 5, InputHeight = 64, InputWidth = 64)]
public partial class FixtureMmsegEmaNetSmall
{
    [ResNet(50, Stem = ResNetStem.Deep, StemWidths = new[] { 8, 8, 16 }, OutputStride = 8, WidthMultiplier = 0.125, ContractDilation = true, MultiGrid = new int[0])]
    private readonly ResNet backbone;

    [ConvBnRelu(32, 3)] private readonly ConvBlock ema_in_conv;
    [Conv(32, 1, Bias = true, Frozen = true)] internal readonly ConvBlock ema_mid_conv;
    [EmaUnit(Bases = 8, Iterations = 3, Momentum = 0.1, Style = EmaUnitStyle.MMSeg)] internal readonly EmaUnit ema_module;
    [ReLU] private readonly ReLU ema_relu;
    [Conv(32, 1, Norm = true)] private readonly ConvBlock ema_out_conv;
    [Add("ema_in_conv", "ema_out_conv")] private readonly ResidualAdd ema_residual;
    [ReLU] private readonly ReLU ema_residual_relu;
    [ConvBnRelu(16, 3)] private readonly ConvBlock bottleneck;
    [Concat("backbone", "bottleneck")] private readonly Concatenate concat_input;
    [ConvBnRelu(16, 3, Dropout = 0.1)] private readonly ConvBlock conv_cat;
    [Classifier] private readonly Conv2d conv_seg;
    [Upsample(SizeOf = "input", AlignCorners = false)] private readonly BilinearUpsample upsample;

    [ConvBnRelu(16, 3, From = "backbone.layer3", Dropout = 0.1)] private readonly ConvBlock auxiliary_conv0;
    [Classifier(Auxiliary = true, AlignCorners = false)] private readonly Conv2d auxiliary_conv_seg;
}

[SegmentationNetwork("fixture-deeplabv3plus-small", Classes = 5, InputHeight = 65, InputWidth = 65)]
public partial class FixtureDeepLabV3PlusSmall
{
    [ResNet(50, Stem = ResNetStem.Deep, OutputStride = 8, WidthMultiplier = 0.125)] private readonly ResNet backbone;
    [Aspp(OutChannels = 16, Rates = new[] { 2, 4, 6 }, Dropout = 0.1)] private readonly Aspp aspp;
    [ConvBnRelu(8, 1, From = "backbone.layer1")] private readonly ConvBlock low_level;
    [Upsample(From = "aspp", SizeOf = "low_level")] private readonly BilinearUpsample aspp_up;
    [Concat("aspp_up", "low_level")] private readonly Concatenate decoder_input;
    [ConvBnRelu(16, 3)] private readonly ConvBlock decoder1;
    [Classifier] private readonly Conv2d classifier;
    [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
}

[SegmentationNetwork("fixture-fcn-small", Classes = 5, InputHeight = 65, InputWidth = 65)]
public partial class FixtureFcnSmall
{
    [ResNet(50, Stem = ResNetStem.Deep, OutputStride = 8, WidthMultiplier = 0.125)] private readonly ResNet backbone;
    [ConvBnRelu(16, 3, Dropout = 0.1)] private readonly ConvBlock head;
    [Classifier] private readonly Conv2d classifier;
    [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
}
