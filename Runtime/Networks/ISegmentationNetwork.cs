using EMANet.Runtime.Blocks;
using TorchSharp;
using static TorchSharp.torch;

namespace EMANet.Runtime.Networks;

/// <summary>
/// What every generated network offers beyond <see cref="nn.Module{Tensor, Tensor}"/>:
/// the description it was generated from, the hooks a trainer needs, and the inference fusion
/// (<see cref="IFusableForInference.FuseForInference"/>: batch norms folded into the convolutions,
/// eval-only afterwards).
/// </summary>
public interface ISegmentationNetwork : IFusableForInference
{
    /// <summary>Static facts of the network type: kebab-case name, declared input, costs.</summary>
    NetworkDescriptor Descriptor { get; }

    /// <summary>Number of output classes of this instance.</summary>
    int Classes { get; }

    /// <summary>Input shape (channels, height, width) this instance was built for.</summary>
    TensorShape InputShape { get; }

    /// <summary>Ratio of input to backbone-output spatial size (8, 16 or 32; 1 without a backbone).</summary>
    int OutputStride { get; }

    /// <summary>Logits at the input's spatial size, B x Classes x H x W.</summary>
    Tensor forward(Tensor input);

    /// <summary>Main logits and, where the network declares one, the auxiliary head's logits (both at input size).</summary>
    (Tensor Main, Tensor? Auxiliary) ForwardTraining(Tensor input);

    /// <summary>The EM attention units of the network, in declaration order.</summary>
    IReadOnlyList<EmaUnit> EmaUnits { get; }

    /// <summary>The precision training forwards run in (<see cref="SetTrainingPrecision"/>); float32 unless set.</summary>
    TrainingPrecision TrainingPrecision { get; }

    /// <summary>
    /// Routes every convolution of the network through <paramref name="precision"/> (mixed
    /// precision: bf16 convolutions on bf16 casts of the float32 weights, everything else float32).
    /// Parameters, buffers and the logits stay float32. Throws <see cref="InvalidOperationException"/>
    /// on a network fused for inference (cast a fused network with <c>ForInference</c> instead).
    /// </summary>
    void SetTrainingPrecision(TrainingPrecision precision);
}
