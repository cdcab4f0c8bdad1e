using EMANet.Runtime.Blocks;
using TorchSharp.Modules;

namespace EMANet.Tests.Training;

/// <summary>A few-thousand-parameter EMANet for training tests: deep-stem ResNet-18 at 1/8 width, an EMA head with 4 bases, dropout.</summary>
[SegmentationNetwork("tiny-test", Classes = 3, InputHeight = 33, InputWidth = 33)]
public partial class TinyTestNet
{
    [ResNet(18, WidthMultiplier = 0.125, OutputStride = 8)] private readonly ResNet backbone;
    [ConvBnRelu(8, 3)] private readonly ConvBlock fc0;
    [EmaUnit(Bases = 4)] private readonly EmaUnit emau;
    [ConvBnRelu(8, 3, Dropout = 0.1)] private readonly ConvBlock fc1;
    [Classifier] private readonly Conv2d fc2;
    [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
}

/// <summary>The same with an auxiliary FCN head on layer3 (training only).</summary>
[SegmentationNetwork("tiny-aux-test", Classes = 3, InputHeight = 33, InputWidth = 33)]
public partial class TinyAuxTestNet
{
    [ResNet(18, WidthMultiplier = 0.125, OutputStride = 8)] private readonly ResNet backbone;
    [ConvBnRelu(8, 3)] private readonly ConvBlock fc0;
    [EmaUnit(Bases = 4)] private readonly EmaUnit emau;
    [Classifier] private readonly Conv2d fc2;
    [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
    [ConvBnRelu(8, 3, From = "backbone.layer3")] private readonly ConvBlock aux_head;
    [Classifier(Auxiliary = true)] private readonly Conv2d aux_classifier;
}

/// <summary><see cref="TinyTestNet"/> at output stride 16: the same parameter names and shapes, another network (train at 16, evaluate at 8).</summary>
[SegmentationNetwork("tiny-test-os16", Classes = 3, InputHeight = 33, InputWidth = 33)]
public partial class TinyTestNetOs16
{
    [ResNet(18, WidthMultiplier = 0.125, OutputStride = 16)] private readonly ResNet backbone;
    [ConvBnRelu(8, 3)] private readonly ConvBlock fc0;
    [EmaUnit(Bases = 4)] private readonly EmaUnit emau;
    [ConvBnRelu(8, 3, Dropout = 0.1)] private readonly ConvBlock fc1;
    [Classifier] private readonly Conv2d fc2;
    [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
}
