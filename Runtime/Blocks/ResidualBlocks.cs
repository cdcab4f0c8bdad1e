using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EMANet.Runtime.Blocks;

/// <summary>
/// 1x1 -> 3x3 (stride, dilation) -> 1x1 (x4) with a projection shortcut when the shape changes (torchvision names).
/// Fusable: bn1..bn3 fold into conv1..conv3, downsample.1 into downsample.0 (eval-only afterwards).
/// </summary>
public sealed class Bottleneck : FusableBlock
{
    private readonly Conv2d conv1, conv2, conv3;
    private BatchNorm2d? bn1, bn2, bn3;
    private readonly ReLU relu;
    private Sequential? downsample;

    public Bottleneck(int inChannels, int planes, int outChannels, int stride, int dilation, bool downsample) : base(nameof(Bottleneck))
    {
        conv1 = nn.Conv2d(inChannels, planes, 1, bias: false);
        bn1 = new BatchNorm2d(planes);
        conv2 = nn.Conv2d(planes, planes, 3, stride: stride, padding: dilation, dilation: dilation, bias: false);
        bn2 = new BatchNorm2d(planes);
        conv3 = nn.Conv2d(planes, outChannels, 1, bias: false);
        bn3 = new BatchNorm2d(outChannels);
        relu = nn.ReLU(inplace: true);   // on BN outputs and the residual sum, which no backward needs (as torchvision)
        if (downsample)
            this.downsample = nn.Sequential(nn.Conv2d(inChannels, outChannels, 1, stride: stride, bias: false), new BatchNorm2d(outChannels));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        if (IsFusedForInference) return FusedForward(input);
        using var scope = NewDisposeScope();
        var x = relu.forward(bn1!.forward(Run(conv1, input)));
        x = relu.forward(bn2!.forward(Run(conv2, x)));
        x = bn3!.forward(Run(conv3, x));
        var identity = downsample is null ? input : Run(downsample, input);
        return relu.forward(x.add_(identity, Scalars.One)).MoveToOuterDisposeScope();
    }

    private Tensor FusedForward(Tensor input)
    {
        EnsureFusedForwardAllowed();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var a = conv1.forward(input).relu_();
        var b = conv2.forward(a).relu_();
        a.Dispose();
        var x = conv3.forward(b);
        b.Dispose();
        if (downsample is null) x.add_(input, Scalars.One);
        else
        {
            using var identity = downsample.forward(input);
            x.add_(identity, Scalars.One);
        }
        return x.relu_().MoveToOuterDisposeScope();
    }

    protected override void Fuse()
    {
        FoldInto(conv1, ref bn1, "bn1");
        FoldInto(conv2, ref bn2, "bn2");
        FoldInto(conv3, ref bn3, "bn3");
        if (downsample is not null)
        {
            var fused = Fusion.FoldSequential(downsample);
            ReplaceChild("downsample", fused, disposeOld: false);
            downsample = fused;
        }
    }

    private void FoldInto(Conv2d conv, ref BatchNorm2d? bn, string name)
    {
        Fusion.FoldBatchNorm(conv, bn!);
        ReplaceChild(name, null);
        bn = null;
    }
}

/// <summary>
/// 3x3 (stride, dilation) -> 3x3 (dilation) with a projection shortcut when the shape changes (torchvision names).
/// Fusable like <see cref="Bottleneck"/>.
/// </summary>
public sealed class BasicBlock : FusableBlock
{
    private readonly Conv2d conv1, conv2;
    private BatchNorm2d? bn1, bn2;
    private readonly ReLU relu;
    private Sequential? downsample;

    public BasicBlock(int inChannels, int outChannels, int stride, int dilation, bool downsample) : base(nameof(BasicBlock))
    {
        conv1 = nn.Conv2d(inChannels, outChannels, 3, stride: stride, padding: dilation, dilation: dilation, bias: false);
        bn1 = new BatchNorm2d(outChannels);
        conv2 = nn.Conv2d(outChannels, outChannels, 3, padding: dilation, dilation: dilation, bias: false);
        bn2 = new BatchNorm2d(outChannels);
        relu = nn.ReLU(inplace: true);   // on BN outputs and the residual sum, which no backward needs (as torchvision)
        if (downsample)
            this.downsample = nn.Sequential(nn.Conv2d(inChannels, outChannels, 1, stride: stride, bias: false), new BatchNorm2d(outChannels));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        if (IsFusedForInference) return FusedForward(input);
        using var scope = NewDisposeScope();
        var x = relu.forward(bn1!.forward(Run(conv1, input)));
        x = bn2!.forward(Run(conv2, x));
        var identity = downsample is null ? input : Run(downsample, input);
        return relu.forward(x.add_(identity, Scalars.One)).MoveToOuterDisposeScope();
    }

    private Tensor FusedForward(Tensor input)
    {
        EnsureFusedForwardAllowed();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var a = conv1.forward(input).relu_();
        var x = conv2.forward(a);
        a.Dispose();
        if (downsample is null) x.add_(input, Scalars.One);
        else
        {
            using var identity = downsample.forward(input);
            x.add_(identity, Scalars.One);
        }
        return x.relu_().MoveToOuterDisposeScope();
    }

    protected override void Fuse()
    {
        Fusion.FoldBatchNorm(conv1, bn1!);
        ReplaceChild("bn1", null);
        bn1 = null;
        Fusion.FoldBatchNorm(conv2, bn2!);
        ReplaceChild("bn2", null);
        bn2 = null;
        if (downsample is not null)
        {
            var fused = Fusion.FoldSequential(downsample);
            ReplaceChild("downsample", fused, disposeOld: false);
            downsample = fused;
        }
    }
}
