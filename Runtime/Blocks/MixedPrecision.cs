using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EMANet.Runtime.Blocks;

/// <summary>
/// Convolutions in a lower precision with float32 master weights (what autocast does in PyTorch;
/// TorchSharp has none). The cast of the weight is part of the autograd graph, so the gradient
/// arrives at the float32 parameter in float32; the convolution's result is cast back to the
/// input's type, so everything between convolutions (batch norm, activations, residual adds, the
/// loss) stays float32.
/// </summary>
public static class MixedPrecision
{
    /// <summary>
    /// <paramref name="module"/>'s forward with its convolutions computed in <paramref name="computeDtype"/>:
    /// a Conv2d is convolved in that type, a Sequential runs its children this way, anything else
    /// runs its own forward. With a null <paramref name="computeDtype"/> this is <c>module.forward(input)</c>.
    /// </summary>
    public static Tensor Forward(nn.Module<Tensor, Tensor> module, Tensor input, ScalarType? computeDtype)
    {
        if (computeDtype is null) return module.forward(input);
        switch (module)
        {
            case Conv2d conv:
                return Convolve(conv, input, computeDtype);
            case Sequential sequence:
            {
                using var scope = NewDisposeScope();
                var x = input;
                foreach (var (_, child) in sequence.named_children())
                    x = Forward((nn.Module<Tensor, Tensor>)child, x, computeDtype);
                return ReferenceEquals(x, input) ? x : x.MoveToOuterDisposeScope();
            }
            default:
                return module.forward(input);
        }
    }

    /// <summary>
    /// <paramref name="conv"/> applied to <paramref name="input"/> with input, weight and bias cast
    /// to <paramref name="computeDtype"/>; the result has <paramref name="input"/>'s type. Null, or
    /// the types already matching, is the plain forward.
    /// </summary>
    public static Tensor Convolve(Conv2d conv, Tensor input, ScalarType? computeDtype)
    {
        if (computeDtype is not { } dtype || (conv.weight.dtype == dtype && input.dtype == dtype)) return conv.forward(input);
        if (conv.padding_mode != TorchSharp.PaddingModes.Zeros || conv.padding is null)
            throw new NotSupportedException($"mixed precision supports zero-padded convolutions with explicit padding, not {conv.padding_mode}/{conv.padding_type}");
        using var scope = NewDisposeScope();
        var y = nn.functional.conv2d(input.to(dtype), conv.weight.to(dtype), conv.bias?.to(dtype),
            conv.stride, conv.padding, conv.dilation, conv.groups);
        return y.to(input.dtype).MoveToOuterDisposeScope();
    }
}
