namespace EMANet.Models;

/// <summary>The FCN head on emanet-tiny's backbone (ResNet-18 x0.25, OS 8): the ablation's baseline.</summary>
[SegmentationNetwork("fcn-tiny", InputHeight = 129, InputWidth = 129)]
public partial class FcnTiny
{
    [ResNet(18, Stem = ResNetStem.Deep, OutputStride = 8, WidthMultiplier = 0.25)] private readonly ResNet backbone;
    [ConvBnRelu(64, 3, Dropout = 0.1)] private readonly ConvBlock head;
    [Classifier] private readonly Conv2d classifier;
    [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
}

/// <summary>
/// DeepLabV3's ASPP head (64 channels, image pooling) on emanet-tiny's backbone. The rates are
/// 12/24/36 scaled to the 17x17 feature map of a 129x129 input (the paper's rates are for 65x65).
/// </summary>
[SegmentationNetwork("deeplabv3-tiny", InputHeight = 129, InputWidth = 129)]
public partial class DeepLabV3Tiny
{
    [ResNet(18, Stem = ResNetStem.Deep, OutputStride = 8, WidthMultiplier = 0.25)] private readonly ResNet backbone;
    [Aspp(OutChannels = 64, Rates = new[] { 3, 6, 9 }, Dropout = 0.1)] private readonly Aspp aspp;
    [Classifier] private readonly Conv2d classifier;
    [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
}

/// <summary>
/// The ablation's control: <c>emanet-tiny</c> with its EMA unit removed and everything else kept (the same backbone,
/// the 3x3 64-channel convolutions before and after where the unit sat, dropout 0.1, classifier). The difference
/// between the two isolates what the EMA unit adds at the same recipe and budget.
/// </summary>
[SegmentationNetwork("emanet-tiny-no-ema", InputHeight = 129, InputWidth = 129)]
public partial class EmaNetTinyNoEma
{
    [ResNet(18, Stem = ResNetStem.Deep, OutputStride = 8, WidthMultiplier = 0.25)] private readonly ResNet backbone;
    [ConvBnRelu(64, 3)] private readonly ConvBlock fc0;
    [ConvBnRelu(64, 3, Dropout = 0.1)] private readonly ConvBlock fc1;
    [Classifier] private readonly Conv2d fc2;
    [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
}
