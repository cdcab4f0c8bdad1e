using EMANet.Runtime.Networks;
using static TorchSharp.torch;

namespace EMANet.Runtime.Blocks;

/// <summary>
/// Mixed-precision training as a setting of the module tree: in training-mode forwards every
/// <see cref="Conv2d"/> computes in bfloat16 on casts of its float32 master weights and returns bf16,
/// so the activations between convolutions stay bf16 (what PyTorch's CPU autocast does; TorchSharp has
/// none); the EM iterations run on those bf16 features (<see cref="EmaUnit"/>), the loss casts up to
/// float32, and the parameters, gradients and the optimizer stay float32
/// (<see cref="TrainingPrecision.BFloat16Mixed"/>).
/// </summary>
/// <remarks>
/// Why a per-convolution setting and not a dtype handed through every forward: the blocks and the
/// generated code then have one forward each, which neither knows nor forwards a precision, and a
/// block a user adds gets mixed precision by using <see cref="Conv2d"/>. Why not a thread-local
/// "autocast" state as PyTorch has: the setting belongs to the network being trained, not to the
/// thread that happens to run it (evaluation and prediction on the same thread stay float32).
/// </remarks>
public static class MixedPrecision
{
    /// <summary>
    /// Sets <see cref="Conv2d.ComputeDtype"/> of every convolution in <paramref name="module"/>
    /// (bfloat16 for <see cref="TrainingPrecision.BFloat16Mixed"/>, none for float32); returns the
    /// number of convolutions set. Parameters and buffers keep their type.
    /// </summary>
    public static int Apply(nn.Module module, TrainingPrecision precision)
    {
        var dtype = precision.ConvolutionDtype();
        int count = 0;
        foreach (var (_, child) in module.named_modules())
        {
            if (child is not Conv2d conv) continue;
            conv.ComputeDtype = dtype;
            count++;
        }
        return count;
    }
}
