using EMANet;
using EMANet.Runtime.Blocks;

namespace MySegmenter;

// A user's own network: EMANet on a quarter-width ResNet-18, 5 classes, 97x97 inputs.
[SegmentationNetwork("street-net", Classes = 5, InputHeight = 97, InputWidth = 97)]
public partial class StreetNet
{
    [ResNet(18, OutputStride = 8, WidthMultiplier = 0.25)] private readonly ResNet backbone;
    [ConvBnRelu(64, 3)]                                     private readonly ConvBlock fc0;
    [EmaUnit(Bases = 16, Iterations = 3)]                   private readonly EmaUnit emau;
    [Classifier]                                            private readonly Conv2d fc2;
    [Upsample(SizeOf = "input")]                            private readonly BilinearUpsample upsample;
}
