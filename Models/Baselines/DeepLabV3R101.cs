namespace EMANet.Models;

/// <summary>
/// DeepLabV3 (Chen et al. 2017): ASPP with rates 12/24/36 at output stride 8, an image-pooling
/// branch, the 1x1 projection to 256 with BN, ReLU and dropout, then the classifier.
/// </summary>
[SegmentationNetwork("deeplabv3-r101")]
public partial class DeepLabV3R101
{
    [ResNet(101, OutputStride = 8)] private readonly ResNet backbone;
    [Aspp(OutChannels = 256, Rates = new[] { 12, 24, 36 }, Dropout = 0.1)] private readonly Aspp aspp;
    [Classifier] private readonly Conv2d classifier;
    [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
}
