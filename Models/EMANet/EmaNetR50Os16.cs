namespace EMANet.Models;

/// <summary>EMANet(512) on a deep-stem ResNet-50 at output stride 16 (Li et al., ICCV 2019).</summary>
[SegmentationNetwork("emanet-r50-os16")]
public partial class EmaNetR50Os16
{
    [ResNet(50, Stem = ResNetStem.Deep, OutputStride = 16)] private readonly ResNet backbone;
    [ConvBnRelu(512, 3)] private readonly ConvBlock fc0;
    [EmaUnit(Bases = 64, Iterations = 3, Momentum = 0.9)] private readonly EmaUnit emau;
    [ConvBnRelu(256, 3, Dropout = 0.1)] private readonly ConvBlock fc1;
    [Classifier] private readonly Conv2d fc2;
    [Upsample(SizeOf = "input", AlignCorners = true)] private readonly BilinearUpsample upsample;
}
