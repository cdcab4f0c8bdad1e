using EMANet;
using EMANet.Runtime.Blocks;

namespace CustomNetwork;

/// <summary>
/// A user's own variant, declared in their own project: EMANet(256) on a torchvision-stem
/// ResNet-50 at output stride 16 for Cityscapes' 19 classes, with mmsegmentation's auxiliary FCN
/// head on layer3 (training only; the trainer weights its loss by 0.4).
/// </summary>
[SegmentationNetwork("cityscapes-emanet-r50", Classes = 19, InputHeight = 513, InputWidth = 1025)]
public partial class CityscapesEmaNet
{
    [ResNet(50, Stem = ResNetStem.TorchVision, OutputStride = 16)] private readonly ResNet backbone;
    [ConvBnRelu(256, 3)] private readonly ConvBlock fc0;
    [EmaUnit(Bases = 64, Iterations = 3)] private readonly EmaUnit emau;
    [ConvBnRelu(256, 3, Dropout = 0.1)] private readonly ConvBlock fc1;
    [Classifier] private readonly Conv2d fc2;
    [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;

    // Auxiliary head: read by nothing on the inference path, so forward() skips it.
    [ConvBnRelu(256, 3, Dropout = 0.1, From = "backbone.layer3")] private readonly ConvBlock aux;
    [Classifier(Auxiliary = true)] private readonly Conv2d aux_cls;
}
