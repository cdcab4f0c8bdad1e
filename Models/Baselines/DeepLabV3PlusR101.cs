namespace EMANet.Models;

/// <summary>
/// DeepLabV3+ (Chen et al. 2018): the ASPP encoder, and a decoder that reduces the layer1
/// features to 48 channels, concatenates them with the upsampled ASPP output, refines with two
/// 3x3 convolutions and classifies.
/// </summary>
[SegmentationNetwork("deeplabv3plus-r101")]
public partial class DeepLabV3PlusR101
{
    [ResNet(101, OutputStride = 8)] private readonly ResNet backbone;
    [Aspp(OutChannels = 256, Rates = new[] { 12, 24, 36 }, Dropout = 0.1)] private readonly Aspp aspp;
    [ConvBnRelu(48, 1, From = "backbone.layer1")] private readonly ConvBlock low_level;
    [Upsample(From = "aspp", SizeOf = "low_level")] private readonly BilinearUpsample aspp_up;
    [Concat("aspp_up", "low_level")] private readonly Concatenate decoder_input;
    [ConvBnRelu(256, 3)] private readonly ConvBlock decoder1;
    [ConvBnRelu(256, 3)] private readonly ConvBlock decoder2;
    [Classifier] private readonly Conv2d classifier;
    [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
}
