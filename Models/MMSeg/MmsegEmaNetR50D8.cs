namespace EMANet.Models;

/// <summary>
/// mmsegmentation's EMANet R-50-D8 (configs/_base_/models/emanet_r50-d8.py, the Cityscapes 512x1024 models): a
/// ResNetV1c-50 (deep stem 3-32-32-64, strides 1/2/1/1, dilations 1/1/2/4 contracted, no multi-grid), its EMAHead on
/// layer4 and an FCN auxiliary head on layer3 (loss weight 0.4, the trainer's default). Each field is the mmseg module
/// of the same name; <c>--layout mmseg</c> loads its checkpoints (decode_head.* and auxiliary_head.* renamed, the stem's
/// backbone.stem.N renamed to this project's backbone.conv1.N / backbone.bn1).
/// </summary>
[SegmentationNetwork("mmseg-emanet-r50-d8", Classes = 19, InputHeight = 512, InputWidth = 1024)]
public partial class MmsegEmaNetR50D8
{
    [ResNet(50, Stem = ResNetStem.Deep, StemWidths = new[] { 32, 32, 64 }, OutputStride = 8, ContractDilation = true, MultiGrid = new int[0])]
    private readonly ResNet backbone;

    // decode_head: EMAHead(in 2048, ema_channels 512, channels 256, 64 bases, 3 stages, momentum 0.1, dropout 0.1)
    [ConvBnRelu(512, 3)] private readonly ConvBlock ema_in_conv;
    [Conv(512, 1, Bias = true, Frozen = true)] private readonly ConvBlock ema_mid_conv;
    [EmaUnit(Bases = 64, Iterations = 3, Momentum = 0.1, Style = EmaUnitStyle.MMSeg)] private readonly EmaUnit ema_module;
    [ReLU] private readonly ReLU ema_relu;
    [Conv(512, 1, Norm = true)] private readonly ConvBlock ema_out_conv;
    [Add("ema_in_conv", "ema_out_conv")] private readonly ResidualAdd ema_residual;
    [ReLU] private readonly ReLU ema_residual_relu;
    [ConvBnRelu(256, 3)] private readonly ConvBlock bottleneck;
    [Concat("backbone", "bottleneck")] private readonly Concatenate concat_input;
    [ConvBnRelu(256, 3, Dropout = 0.1)] private readonly ConvBlock conv_cat;
    [Classifier] private readonly Conv2d conv_seg;
    [Upsample(SizeOf = "input", AlignCorners = false)] private readonly BilinearUpsample upsample;

    // auxiliary_head: FCNHead(in 1024, channels 256, one conv, no concat, dropout 0.1)
    [ConvBnRelu(256, 3, From = "backbone.layer3", Dropout = 0.1)] private readonly ConvBlock auxiliary_conv0;
    [Classifier(Auxiliary = true, AlignCorners = false)] private readonly Conv2d auxiliary_conv_seg;
}
