namespace EMANet.Models;

/// <summary>
/// FCN (Long et al. 2015) on a dilated ResNet-101, with torchvision's FCN head: a 3x3
/// convolution to a quarter of the channels with BN, ReLU and dropout 0.1, then the classifier.
/// </summary>
[SegmentationNetwork("fcn-r101")]
public partial class FcnR101
{
    [ResNet(101, OutputStride = 8)] private readonly ResNet backbone;
    [ConvBnRelu(512, 3, Dropout = 0.1)] private readonly ConvBlock head;
    [Classifier] private readonly Conv2d classifier;
    [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
}
