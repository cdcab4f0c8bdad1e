using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EMANet.Runtime.Blocks;

/// <summary>Conv -> optional BatchNorm -> optional ReLU -> optional Dropout2d. Keys: conv.*, bn.*.</summary>
public sealed class ConvBlock : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly BatchNorm2d? bn;
    private readonly Dropout2d? dropout;
    private readonly bool _relu;

    public ConvBlock(int inChannels, int outChannels, int kernel, int stride = 1, int dilation = 1, int padding = -1, int groups = 1,
        bool bias = false, bool norm = false, bool relu = false, double dropout = 0)
        : base(nameof(ConvBlock))
    {
        if (padding < 0) padding = dilation * (kernel - 1) / 2;
        conv = nn.Conv2d(inChannels, outChannels, kernel, stride: stride, padding: padding, dilation: dilation, groups: groups, bias: bias);
        if (norm) bn = nn.BatchNorm2d(outChannels);
        if (dropout > 0) this.dropout = nn.Dropout2d(dropout);
        _relu = relu;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = conv.forward(input);
        if (bn is not null) x = bn.forward(x);
        if (_relu) x = nn.functional.relu(x);
        if (dropout is not null) x = dropout.forward(x);
        return x.MoveToOuterDisposeScope();
    }
}
