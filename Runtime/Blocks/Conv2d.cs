using EMANet.Runtime.Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace EMANet.Runtime.Blocks;

/// <summary>
/// A 2-D convolution with zero padding, state-dict keys <c>weight</c> (out x in/groups x k x k) and
/// <c>bias</c> (out), as PyTorch's and TorchSharp's <c>Conv2d</c>, that reads one setting:
/// <see cref="ComputeDtype"/>, the element type it computes in (mixed-precision training).
/// Input B x in x H x W; output B x out x H' x W' with H' = floor((H + 2p - d(k-1) - 1) / s) + 1.
/// </summary>
/// <remarks>
/// TorchSharp has no autocast, and its <c>Conv2d</c> is sealed, so this module is where the
/// precision is applied: with <see cref="ComputeDtype"/> set (bfloat16) and the module in training
/// mode, the input, the weight and the bias are cast to it inside the autograd graph (so the gradient
/// reaches the float32 weight in float32), the convolution runs in that type and its result stays in
/// it, which is what PyTorch's autocast does for convolutions: the activations after it (batch norm,
/// ReLU, adds) are then bf16 too, and so is what backward keeps of them. In evaluation mode the
/// setting is ignored. The setting is applied to a whole network by <see cref="MixedPrecision.Apply"/>;
/// nothing else in a forward knows about it.
/// </remarks>
public sealed class Conv2d : TorchSharp.Modules.Convolution, IOnnxExportable
{
    /// <summary>A square convolution; <paramref name="padding"/> in pixels on each side (zeros).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, or the channels do not divide by <paramref name="groups"/>.</exception>
    public Conv2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, long dilation = 1, long groups = 1, bool bias = true)
        : base(nameof(Conv2d), Checked(inChannels, outChannels, kernelSize, stride, padding, dilation, groups),
            outChannels, [kernelSize, kernelSize], [stride, stride], [padding, padding], null, [dilation, dilation],
            false, [0, 0], groups, bias, PaddingModes.Zeros)
    {
    }

    /// <summary>
    /// The element type training-mode forwards compute in and return; null (the default) computes in
    /// the weight's own type. Ignored in evaluation mode.
    /// </summary>
    public ScalarType? ComputeDtype { get; set; }

    /// <summary>
    /// B x in x H x W to B x out x H' x W': in <see cref="ComputeDtype"/> in training mode when it is set,
    /// otherwise in the weight's type (the input must then have it too, as in PyTorch).
    /// </summary>
    public override Tensor forward(Tensor input)
    {
        if (!training || ComputeDtype is not { } dtype || (weight.dtype == dtype && input.dtype == dtype))
            return nn.functional.conv2d(input, weight, bias, stride, padding, dilation, groups);
        using var scope = NewDisposeScope();
        var y = nn.functional.conv2d(input.to(dtype), weight.to(dtype), bias?.to(dtype), stride, padding, dilation, groups);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>ONNX Conv (weight and bias as initializers <c>weight</c>, <c>bias</c>); always float32 (<see cref="ComputeDtype"/> is a training setting).</summary>
    public OnnxValue Export(OnnxGraphBuilder g, params OnnxValue[] inputs)
    {
        var x = OnnxModules.Single(this, inputs);
        var pad = padding ?? throw new NotSupportedException("ONNX export: a Conv2d with a padding mode instead of sizes");
        var operands = bias is null ? new[] { x, g.Parameter("weight", weight) } : [x, g.Parameter("weight", weight), g.Parameter("bias", bias)];
        return g.Node("Conv", operands,
            OnnxAttribute.Ints("kernel_shape", kernel_size),
            OnnxAttribute.Ints("strides", stride),
            OnnxAttribute.Ints("pads", pad[0], pad[1], pad[0], pad[1]),
            OnnxAttribute.Ints("dilations", dilation),
            OnnxAttribute.Int("group", groups));
    }

    private static long Checked(long inChannels, long outChannels, long kernelSize, long stride, long padding, long dilation, long groups)
    {
        if (inChannels <= 0) throw new ArgumentOutOfRangeException(nameof(inChannels), inChannels, "input channels must be positive");
        if (outChannels <= 0) throw new ArgumentOutOfRangeException(nameof(outChannels), outChannels, "output channels must be positive");
        if (kernelSize <= 0 || stride <= 0 || dilation <= 0 || padding < 0)
            throw new ArgumentOutOfRangeException(nameof(kernelSize), $"kernel {kernelSize}, stride {stride} and dilation {dilation} must be positive and padding {padding} not negative");
        if (groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentOutOfRangeException(nameof(groups), groups, $"groups must divide the input ({inChannels}) and output ({outChannels}) channels");
        return inChannels;
    }
}
