namespace EMANet.Models;

/// <summary>
/// A CPU-sized DeepLabV3+: ResNet-18 at a quarter of the width, output stride 8, ASPP with 32
/// channels (rates 2/4/6 and image pooling), and the layer1 decoder, on 129x129 inputs. Small enough
/// for unit tests of the ASPP, decoder and inference-fusion paths.
/// </summary>
[SegmentationNetwork("deeplabv3plus-tiny", InputHeight = 129, InputWidth = 129)]
public partial class DeepLabV3PlusTiny
{
    [ResNet(18, Stem = ResNetStem.TorchVision, OutputStride = 8, WidthMultiplier = 0.25)] private readonly ResNet backbone;
    [Aspp(OutChannels = 32, Rates = new[] { 2, 4, 6 }, Dropout = 0.1)] private readonly Aspp aspp;
    [ConvBnRelu(12, 1, From = "backbone.layer1")] private readonly ConvBlock low_level;
    [Upsample(From = "aspp", SizeOf = "low_level")] private readonly BilinearUpsample aspp_up;
    [Concat("aspp_up", "low_level")] private readonly Concatenate decoder_input;
    [ConvBnRelu(32, 3)] private readonly ConvBlock decoder1;
    [Classifier] private readonly Conv2d classifier;
    [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
}
