using EMANet.Runtime.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EMANet.Runtime.Blocks;

/// <summary>
/// What <see cref="Bottleneck"/> and <see cref="BasicBlock"/> share: the shortcut (identity, or a
/// projection <c>downsample</c> = 1x1 conv + BN when the shape changes; torchvision's names), the
/// residual add and the final in-place ReLU, and the fusion of the projection.
/// </summary>
public abstract class ResidualBlock : FusableBlock
{
    /// <summary>On BN outputs and the residual sum, which no backward needs (as torchvision): in place.</summary>
    protected readonly ReLU relu = nn.ReLU(inplace: true);

    /// <summary>The projection shortcut, null for the identity.</summary>
    protected Sequential? downsample;

    protected ResidualBlock(string name, int inChannels, int outChannels, int stride, bool downsample) : base(name)
    {
        if (downsample)
            this.downsample = nn.Sequential(new Conv2d(inChannels, outChannels, 1, stride: stride, bias: false), new BatchNorm2d(outChannels));
    }

    /// <summary>relu(<paramref name="residual"/> + shortcut(<paramref name="input"/>)), the add in place on <paramref name="residual"/>.</summary>
    protected Tensor AddShortcut(Tensor residual, Tensor input)
    {
        var identity = downsample is null ? input : downsample.call(input);
        return relu.call(residual.add_(identity, Scalars.One));
    }

    /// <summary>The export of <see cref="AddShortcut"/>: Relu(residual + shortcut(input)).</summary>
    protected OnnxValue ExportShortcut(OnnxGraphBuilder g, OnnxValue residual, OnnxValue input)
    {
        var identity = downsample is null ? input : g.Child("downsample", downsample, input);
        return g.Node("Relu", [g.Node("Add", [residual, identity])]);
    }

    /// <summary>Folds the projection's BN into its convolution (part of <see cref="FusableBlock.Fuse"/>).</summary>
    protected void FuseShortcut()
    {
        if (downsample is not null) downsample = FoldChild("downsample", downsample);
    }
}

/// <summary>
/// 1x1 -> 3x3 (stride, dilation) -> 1x1 (x4) with a projection shortcut when the shape changes (torchvision names).
/// Input B x in x H x W, output B x out x H/stride x W/stride.
/// Fusable: bn1..bn3 fold into conv1..conv3, downsample.1 into downsample.0 (eval-only afterwards).
/// </summary>
public sealed class Bottleneck : ResidualBlock
{
    private readonly Conv2d conv1, conv2, conv3;
    private BatchNorm2d? bn1, bn2, bn3;

    public Bottleneck(int inChannels, int planes, int outChannels, int stride, int dilation, bool downsample) : base(nameof(Bottleneck), inChannels, outChannels, stride, downsample)
    {
        conv1 = new Conv2d(inChannels, planes, 1, bias: false);
        bn1 = new BatchNorm2d(planes);
        conv2 = new Conv2d(planes, planes, 3, stride: stride, padding: dilation, dilation: dilation, bias: false);
        bn2 = new BatchNorm2d(planes);
        conv3 = new Conv2d(planes, outChannels, 1, bias: false);
        bn3 = new BatchNorm2d(outChannels);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        ThrowIfFusedInTraining();
        using var scope = NewDisposeScope();
        var x = conv1.call(input);                   // B x planes x H x W
        if (bn1 is not null) x = bn1.call(x);
        x = relu.call(x);
        x = conv2.call(x);                           // B x planes x H/s x W/s
        if (bn2 is not null) x = bn2.call(x);
        x = relu.call(x);
        x = conv3.call(x);                           // B x out x H/s x W/s
        if (bn3 is not null) x = bn3.call(x);
        return AddShortcut(x, input).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override OnnxValue Export(OnnxGraphBuilder g, params OnnxValue[] inputs)
    {
        var input = OnnxModules.Single(this, inputs);
        var x = g.Child("conv1", conv1, input);
        if (bn1 is not null) x = g.Child("bn1", bn1, x);
        x = g.Node("Relu", [x]);
        x = g.Child("conv2", conv2, x);
        if (bn2 is not null) x = g.Child("bn2", bn2, x);
        x = g.Node("Relu", [x]);
        x = g.Child("conv3", conv3, x);
        if (bn3 is not null) x = g.Child("bn3", bn3, x);
        return ExportShortcut(g, x, input);
    }

    protected override void Fuse()
    {
        FoldAndRemove(conv1, ref bn1, "bn1");
        FoldAndRemove(conv2, ref bn2, "bn2");
        FoldAndRemove(conv3, ref bn3, "bn3");
        FuseShortcut();
    }
}

/// <summary>
/// 3x3 (stride, dilation) -> 3x3 (dilation) with a projection shortcut when the shape changes (torchvision names).
/// Input B x in x H x W, output B x out x H/stride x W/stride. Fusable like <see cref="Bottleneck"/>.
/// </summary>
public sealed class BasicBlock : ResidualBlock
{
    private readonly Conv2d conv1, conv2;
    private BatchNorm2d? bn1, bn2;

    public BasicBlock(int inChannels, int outChannels, int stride, int dilation, bool downsample) : base(nameof(BasicBlock), inChannels, outChannels, stride, downsample)
    {
        conv1 = new Conv2d(inChannels, outChannels, 3, stride: stride, padding: dilation, dilation: dilation, bias: false);
        bn1 = new BatchNorm2d(outChannels);
        conv2 = new Conv2d(outChannels, outChannels, 3, padding: dilation, dilation: dilation, bias: false);
        bn2 = new BatchNorm2d(outChannels);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        ThrowIfFusedInTraining();
        using var scope = NewDisposeScope();
        var x = conv1.call(input);                   // B x out x H/s x W/s
        if (bn1 is not null) x = bn1.call(x);
        x = relu.call(x);
        x = conv2.call(x);                           // B x out x H/s x W/s
        if (bn2 is not null) x = bn2.call(x);
        return AddShortcut(x, input).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override OnnxValue Export(OnnxGraphBuilder g, params OnnxValue[] inputs)
    {
        var input = OnnxModules.Single(this, inputs);
        var x = g.Child("conv1", conv1, input);
        if (bn1 is not null) x = g.Child("bn1", bn1, x);
        x = g.Node("Relu", [x]);
        x = g.Child("conv2", conv2, x);
        if (bn2 is not null) x = g.Child("bn2", bn2, x);
        return ExportShortcut(g, x, input);
    }

    protected override void Fuse()
    {
        FoldAndRemove(conv1, ref bn1, "bn1");
        FoldAndRemove(conv2, ref bn2, "bn2");
        FuseShortcut();
    }
}
