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
