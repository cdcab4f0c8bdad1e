using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EMANet.Runtime.Blocks;

/// <summary>
/// Conv -> optional BatchNorm -> optional ReLU -> optional Dropout2d. Keys: conv.*, bn.*.
/// <see cref="FusableBlock.FuseForInference"/> folds bn into conv (keys become conv.weight, conv.bias),
/// drops the dropout and applies the ReLU in place; the block is then eval-only.
/// </summary>
public sealed class ConvBlock : FusableBlock
{
    private readonly Conv2d conv;
    private BatchNorm2d? bn;
    private Dropout2d? dropout;
    private readonly bool _relu;

    public ConvBlock(int inChannels, int outChannels, int kernel, int stride = 1, int dilation = 1, int padding = -1, int groups = 1,
        bool bias = false, bool norm = false, bool relu = false, double dropout = 0)
        : base(nameof(ConvBlock))
    {
        if (padding < 0) padding = dilation * (kernel - 1) / 2;
        conv = nn.Conv2d(inChannels, outChannels, kernel, stride: stride, padding: padding, dilation: dilation, groups: groups, bias: bias);
        if (norm) bn = new BatchNorm2d(outChannels);
        if (dropout > 0) this.dropout = nn.Dropout2d(dropout);
        _relu = relu;
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        if (IsFusedForInference)
        {
            EnsureFusedForwardAllowed();
            using var noGrad = no_grad();
            var y = conv.forward(input);
            return _relu ? y.relu_() : y;
        }
        using var scope = NewDisposeScope();
        var x = Run(conv, input);
        if (bn is not null) x = bn.forward(x);
        if (_relu) x = x.relu_();   // in place: neither BN's nor the conv's backward needs this tensor
        if (dropout is not null) x = dropout.forward(x);
        return x.MoveToOuterDisposeScope();
    }

    protected override void Fuse()
    {
        if (bn is not null)
        {
            Fusion.FoldBatchNorm(conv, bn);
            ReplaceChild("bn", null);
            bn = null;
        }
        if (dropout is not null)
        {
            ReplaceChild("dropout", null);
            dropout = null;
        }
    }
}
