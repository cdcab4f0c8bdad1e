using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EMANet.Runtime.Blocks;

/// <summary>1x1 -> 3x3 (stride, dilation) -> 1x1 (x4) with a projection shortcut when the shape changes (torchvision names).</summary>
public sealed class Bottleneck : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1, conv2, conv3;
    private readonly BatchNorm2d bn1, bn2, bn3;
    private readonly ReLU relu;
    private readonly Sequential? downsample;

    public Bottleneck(int inChannels, int planes, int outChannels, int stride, int dilation, bool downsample) : base(nameof(Bottleneck))
    {
        conv1 = nn.Conv2d(inChannels, planes, 1, bias: false);
        bn1 = nn.BatchNorm2d(planes);
        conv2 = nn.Conv2d(planes, planes, 3, stride: stride, padding: dilation, dilation: dilation, bias: false);
        bn2 = nn.BatchNorm2d(planes);
        conv3 = nn.Conv2d(planes, outChannels, 1, bias: false);
        bn3 = nn.BatchNorm2d(outChannels);
        relu = nn.ReLU();
        if (downsample)
            this.downsample = nn.Sequential(nn.Conv2d(inChannels, outChannels, 1, stride: stride, bias: false), nn.BatchNorm2d(outChannels));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = relu.forward(bn1.forward(conv1.forward(input)));
        x = relu.forward(bn2.forward(conv2.forward(x)));
        x = bn3.forward(conv3.forward(x));
        var identity = downsample is null ? input : downsample.forward(input);
        return relu.forward(x + identity).MoveToOuterDisposeScope();
    }
}

/// <summary>3x3 (stride, dilation) -> 3x3 (dilation) with a projection shortcut when the shape changes (torchvision names).</summary>
public sealed class BasicBlock : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1, conv2;
    private readonly BatchNorm2d bn1, bn2;
    private readonly ReLU relu;
    private readonly Sequential? downsample;

    public BasicBlock(int inChannels, int outChannels, int stride, int dilation, bool downsample) : base(nameof(BasicBlock))
    {
        conv1 = nn.Conv2d(inChannels, outChannels, 3, stride: stride, padding: dilation, dilation: dilation, bias: false);
        bn1 = nn.BatchNorm2d(outChannels);
        conv2 = nn.Conv2d(outChannels, outChannels, 3, padding: dilation, dilation: dilation, bias: false);
        bn2 = nn.BatchNorm2d(outChannels);
        relu = nn.ReLU();
        if (downsample)
            this.downsample = nn.Sequential(nn.Conv2d(inChannels, outChannels, 1, stride: stride, bias: false), nn.BatchNorm2d(outChannels));
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = relu.forward(bn1.forward(conv1.forward(input)));
        x = bn2.forward(conv2.forward(x));
        var identity = downsample is null ? input : downsample.forward(input);
        return relu.forward(x + identity).MoveToOuterDisposeScope();
    }
}
