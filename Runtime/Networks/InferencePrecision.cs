using TorchSharp;
using static TorchSharp.torch;

namespace EMANet.Runtime.Networks;

/// <summary>Element type the weights and activations of an inference run use.</summary>
public enum InferencePrecision
{
    /// <summary>float32 throughout (the default).</summary>
    Float32,

    /// <summary>
    /// bfloat16 weights, buffers (the EMA bases included) and activations; the input is cast on the
    /// way in and the logits back to float32 on the way out. On CPUs with AVX-512 BF16 libtorch runs
    /// the convolutions natively in bf16 (oneDNN); elsewhere it is emulated and usually slower.
    /// </summary>
    BFloat16,
}

/// <summary>Inference helpers: precision switching and a cast-in, cast-out forward.</summary>
public static class InferenceExtensions
{
    public static ScalarType ToScalarType(this InferencePrecision precision) => precision switch
    {
        InferencePrecision.Float32 => ScalarType.Float32,
        InferencePrecision.BFloat16 => ScalarType.BFloat16,
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, null),
    };

    /// <summary>
    /// Moves every parameter and buffer of <paramref name="module"/> to <paramref name="precision"/>
    /// and switches it to eval mode; with <paramref name="channelsLast"/>, also stores every 4-D
    /// convolution weight channels-last (see <see cref="ToChannelsLast"/>). Fuse first
    /// (<c>FuseForInference</c>): the batch-norm folding is then computed from the float32 statistics.
    /// </summary>
    public static T ForInference<T>(this T module, InferencePrecision precision, bool channelsLast = false) where T : nn.Module
    {
        module.eval();
        module.to(precision.ToScalarType());
        if (channelsLast) module.ToChannelsLast();
        return module;
    }

    /// <summary>
    /// Re-lays every Conv2d weight of <paramref name="module"/> out channels-last (NHWC strides, same
    /// NCHW shape and values). TorchSharp has no <c>to(memory_format=...)</c>; a permute to NHWC, a
    /// contiguous copy and the inverse permute give the same strides. libtorch's oneDNN convolution
    /// then runs in channels-last when its input or weight is channels-last, and its outputs stay
    /// channels-last through the network (element-wise ops keep the layout), which saves the layout
    /// reorders around every convolution. Values and shapes are unchanged.
    /// </summary>
    public static T ToChannelsLast<T>(this T module) where T : nn.Module
    {
        using var noGrad = no_grad();
        foreach (var (_, child) in module.named_modules())
        {
            if (child is not TorchSharp.Modules.Convolution conv || conv.weight.dim() != 4) continue;
            var w = conv.weight;
            var relaid = w.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
            conv.weight = nn.Parameter(relaid, requires_grad: w.requires_grad);
        }
        return module;
    }

    /// <summary>An NCHW-shaped view of <paramref name="x"/> with channels-last (NHWC) strides (a copy).</summary>
    public static Tensor ChannelsLast(this Tensor x) => x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);

    /// <summary>
    /// Logits in float32 for a float32 <paramref name="input"/>, whatever precision the module runs
    /// in: the input is cast to the dtype of the module's first parameter, the forward runs under
    /// no_grad, and the result is cast back to float32 (the intermediate bf16 logits are freed).
    /// </summary>
    public static Tensor Predict(this nn.Module<Tensor, Tensor> module, Tensor input)
    {
        using var noGrad = no_grad();
        var dtype = module.parameters().FirstOrDefault()?.dtype ?? input.dtype;
        using var scope = NewDisposeScope();
        var x = input.dtype == dtype ? input : input.to(dtype);
        var y = module.call(x);   // call: the module's forward hooks fire
        if (y.dtype != ScalarType.Float32) y = y.to(ScalarType.Float32);
        if (!y.is_contiguous()) y = y.contiguous();   // channels-last modules give channels-last logits
        return y.MoveToOuterDisposeScope();
    }
}
