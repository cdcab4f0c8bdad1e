using EMANet.Runtime.Blocks;
using TorchSharp.Modules;
using BatchNorm2d = EMANet.Runtime.Blocks.BatchNorm2d;

namespace EMANet.Tests.Onnx;

/// <summary>
/// Every layer kind the models of Models/ do not use, for the ONNX export: a bare BatchNorm (not after a ConvBlock, so it stays a
/// BatchNormalization node), ReLU, max and average pooling, a residual add, a grouped conv, global pooling with an
/// align_corners = false resize, a concatenation, dropout and a resize by a scale.
/// </summary>
[SegmentationNetwork("onnx-every-layer-test", Classes = 5, InputChannels = 3, InputHeight = 40, InputWidth = 36)]
public partial class OnnxEveryLayerNet
{
    [Conv(16, 3, Bias = true)] private readonly Conv2d stem;
    [BatchNorm] private readonly BatchNorm2d bn;
    [ReLU] private readonly ReLU relu;
    [MaxPool(3, 2)] private readonly MaxPool2d pool;
    [ConvBnRelu(16, 3, Dilation = 2)] private readonly ConvBlock branch;
    [Add("pool", "branch")] private readonly ResidualAdd sum;
    [AvgPool(2, 2, Padding = 0)] private readonly AvgPool2d avg;
    [Conv(32, 3, Groups = 4, Norm = true, Relu = true, Dropout = 0.2)] private readonly ConvBlock grouped;
    [GlobalAvgPool(From = "grouped")] private readonly AdaptiveAvgPool2d gap;
    [Upsample(SizeOf = "grouped", AlignCorners = false)] private readonly BilinearUpsample gap_up;
    [Concat("grouped", "gap_up")] private readonly Concatenate context;
    [Dropout(0.1)] private readonly Dropout2d drop;
    [Classifier] private readonly Conv2d classifier;
    [Upsample(Scale = 4, AlignCorners = false)] private readonly BilinearUpsample upsample;
}
