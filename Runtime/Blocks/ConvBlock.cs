using EMANet.Runtime.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EMANet.Runtime.Blocks;

/// <summary>
/// Conv -> optional BatchNorm -> optional ReLU -> optional Dropout2d. Keys: conv.*, bn.*.
/// Input B x in x H x W, output B x out x H' x W'.
/// <see cref="FusableBlock.FuseForInference"/> folds bn into conv (keys become conv.weight, conv.bias)
/// and drops the dropout; the block is then eval-only.
/// </summary>
public sealed class ConvBlock : FusableBlock
{
    private readonly Conv2d conv;
    private BatchNorm2d? bn;
    private readonly ReLU? relu;
    private Dropout2d? dropout;

    public ConvBlock(int inChannels, int outChannels, int kernel, int stride = 1, int dilation = 1, int padding = -1, int groups = 1,
        bool bias = false, bool norm = false, bool relu = false, double dropout = 0)
        : base(nameof(ConvBlock))
    {
        if (padding < 0) padding = dilation * (kernel - 1) / 2;
        conv = new Conv2d(inChannels, outChannels, kernel, stride: stride, padding: padding, dilation: dilation, groups: groups, bias: bias);
        if (norm) bn = new BatchNorm2d(outChannels);
        if (relu) this.relu = nn.ReLU(inplace: true);   // in place: neither BN's nor the conv's backward needs this tensor
        if (dropout > 0) this.dropout = nn.Dropout2d(dropout);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        ThrowIfFusedInTraining();
        using var scope = NewDisposeScope();
        var x = conv.call(input);                    // B x out x H' x W'
        if (bn is not null) x = bn.call(x);
        if (relu is not null) x = relu.call(x);
        if (dropout is not null) x = dropout.call(x);
        return x.MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override OnnxValue Export(OnnxGraphBuilder g, params OnnxValue[] inputs)
    {
        var x = g.Child("conv", conv, OnnxModules.Single(this, inputs));
        if (bn is not null) x = g.Child("bn", bn, x);
        if (relu is not null) x = g.Node("Relu", [x]);
        return x;                                    // dropout: the identity in evaluation
    }

    protected override void Fuse()
    {
        FoldAndRemove(conv, ref bn, "bn");
        if (dropout is not null)
        {
            ReplaceChild("dropout", null);
            dropout = null;
        }
    }
}
