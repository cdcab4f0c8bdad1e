namespace EMANet.Models;

/// <summary>
/// A CPU-sized EMANet: ResNet-18 at a quarter of the width (deep stem 16-16-32, planes 16..128),
/// output stride 8, a 64-channel EMA head with 16 bases, on 129x129 inputs. Trains in minutes on
/// two cores.
/// </summary>
[SegmentationNetwork("emanet-tiny", InputHeight = 129, InputWidth = 129)]
public partial class EmaNetTiny
{
    [ResNet(18, Stem = ResNetStem.Deep, OutputStride = 8, WidthMultiplier = 0.25)] private readonly ResNet backbone;
    [ConvBnRelu(64, 3)] private readonly ConvBlock fc0;
    [EmaUnit(Bases = 16, Iterations = 3, Momentum = 0.9)] private readonly EmaUnit emau;
    [ConvBnRelu(64, 3, Dropout = 0.1)] private readonly ConvBlock fc1;
    [Classifier] private readonly Conv2d fc2;
    [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
}
