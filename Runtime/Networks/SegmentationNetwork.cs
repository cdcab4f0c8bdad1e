using EMANet.Runtime.Blocks;
using TorchSharp;
using static TorchSharp.torch;

namespace EMANet.Runtime.Networks;

/// <summary>
/// Base class of every generated network: what each network would otherwise repeat (classes,
/// input shape, output stride, the EMA units, fusion for inference, the training precision and the
/// forward's prologue). The generated part of a network adds only what is its own: the cost
/// constants, a constructor that builds its layers, and <see cref="ForwardLayers"/>, its graph
/// written once, one line per layer.
/// </summary>
/// <remarks>
/// The name follows the project's pair <see cref="ISegmentationNetwork"/> / <c>SegmentationNetwork</c>
/// (the interface and its base implementation, as .NET pairs <c>IList</c>/<c>List</c>); it is the
/// counterpart of segmentation_models_pytorch's <c>SegmentationModel</c> base class.
/// Both <see cref="forward"/> and <see cref="ForwardTraining"/> run the same graph: the first without
/// the auxiliary heads, the second with them.
/// </remarks>
public abstract class SegmentationNetwork : nn.Module<Tensor, Tensor>, ISegmentationNetwork
{
    private IReadOnlyList<EmaUnit>? _emaUnits;

    /// <summary>
    /// Records the instance's classes and input shape and refuses a combination the declaration
    /// cannot take (<see cref="NetworkGuard.EnsureValid"/>: <see cref="ArgumentException"/> naming
    /// the network, the input and each engine error). The derived constructor then builds the layers
    /// and calls <c>RegisterComponents()</c>.
    /// </summary>
    /// <param name="descriptor">The network type's static facts (the generated <c>Descriptor</c>).</param>
    /// <param name="classes">Output classes of this instance.</param>
    /// <param name="input">Input shape (channels, height, width); null = the declared one.</param>
    protected SegmentationNetwork(NetworkDescriptor descriptor, int classes, TensorShape? input) : base(descriptor.Name)
    {
        Descriptor = descriptor;
        Classes = classes;
        InputShape = input ?? descriptor.InputShape;
        NetworkGuard.EnsureValid(descriptor, InputShape, classes);
        // The first auxiliary classifier's resize convention (the layer ForwardLayers returns), read once.
        _auxiliaryAlignCorners = descriptor.Declaration.Layers.FirstOrDefault(l => l.IsAuxiliaryClassifier)?.AlignCorners ?? true;
    }

    private readonly bool _auxiliaryAlignCorners;

    /// <inheritdoc />
    public NetworkDescriptor Descriptor { get; }

    /// <inheritdoc />
    public int Classes { get; }

    /// <inheritdoc />
    public TensorShape InputShape { get; }

    /// <inheritdoc />
    public int OutputStride => Descriptor.OutputStride;

    /// <summary>
    /// The <see cref="EmaUnit"/> modules of the network's module tree, in registration order (the
    /// declaration's order for generated networks), found once on first use.
    /// </summary>
    public IReadOnlyList<EmaUnit> EmaUnits =>
        _emaUnits ??= named_modules().Select(m => m.module).OfType<EmaUnit>().ToArray();

    /// <summary>Whether <see cref="FuseForInference"/> has run (the network is then eval-only).</summary>
    public bool IsFusedForInference { get; private set; }

    /// <summary>
    /// Inference path, a rewrite of the module tree: each child block that can (<see cref="IFusableForInference"/>:
    /// ResNet, ConvBlock, EmaUnit, Aspp) folds every BatchNorm into the convolution before it
    /// (W' = W * gamma / sqrt(var + eps), b' = (b - mean) * gamma / sqrt(var + eps) + beta), removes it, and removes
    /// its dropout; <see cref="forward"/> is unchanged and runs under no_grad afterwards. The network is eval-only
    /// then: a forward in training mode throws <see cref="InvalidOperationException"/>. One-way and idempotent; the
    /// state dict loses the BatchNorm keys and the convolutions gain a bias, so load checkpoints before fusing.
    /// Resets the training precision to float32.
    /// </summary>
    public void FuseForInference()
    {
        if (IsFusedForInference) return;
        eval();
        SetTrainingPrecision(TrainingPrecision.Float32);
        foreach (var (_, child) in named_children().ToArray())
            if (child is IFusableForInference fusable) fusable.FuseForInference();
        IsFusedForInference = true;
    }

    /// <inheritdoc />
    public TrainingPrecision TrainingPrecision { get; private set; }

    /// <summary>
    /// Mixed-precision training (TorchSharp has no autocast): with <see cref="TrainingPrecision.BFloat16Mixed"/> each
    /// convolution of the network computes in bfloat16 on bf16 casts of its input and float32 weights and returns
    /// bfloat16, so batch norm, ReLU, residual adds, the EM iterations and upsampling run on bf16 activations (as under
    /// autocast); the loss casts up to float32, and the parameters, their gradients and the EM bases stay float32. A setting of each
    /// convolution (<see cref="Conv2d.ComputeDtype"/>, <see cref="MixedPrecision.Apply"/>), not of the forward. Set before training.
    /// </summary>
    /// <exception cref="InvalidOperationException">A precision other than float32 on a network fused for inference.</exception>
    public void SetTrainingPrecision(TrainingPrecision precision)
    {
        if (IsFusedForInference && precision != TrainingPrecision.Float32)
            throw new InvalidOperationException($"{Descriptor.Name} was fused for inference; set the training precision on an unfused network, or cast a fused one with ForInference.");
        MixedPrecision.Apply(this, precision);
        TrainingPrecision = precision;
    }

    /// <summary>Logits at the input's size, B x Classes x H x W (the inference path: auxiliary heads do not run).</summary>
    /// <exception cref="InvalidOperationException">The network is fused for inference and in training mode.</exception>
    public sealed override Tensor forward(Tensor input)
    {
        ThrowIfFusedInTraining();
        using var fusedNoGrad = IsFusedForInference ? no_grad() : null;
        using var scope = NewDisposeScope();
        var (main, _) = ForwardLayers(input, withAuxiliary: false);
        return main.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Main logits and, where the network declares one, the (first) auxiliary classifier's logits resized to the
    /// input's size (bilinear, with that classifier's declared <c>AlignCorners</c>: true unless the declaration says
    /// false, as mmsegmentation's heads), both B x Classes x H x W; the auxiliary is null otherwise.
    /// </summary>
    /// <exception cref="InvalidOperationException">The network is fused for inference and in training mode.</exception>
    public (Tensor Main, Tensor? Auxiliary) ForwardTraining(Tensor input)
    {
        ThrowIfFusedInTraining();
        using var fusedNoGrad = IsFusedForInference ? no_grad() : null;
        using var scope = NewDisposeScope();
        var (main, auxiliary) = ForwardLayers(input, withAuxiliary: true);
        if (auxiliary is null) return (main.MoveToOuterDisposeScope(), null);
        var auxiliaryAtInput = nn.functional.interpolate(auxiliary, [input.shape[2], input.shape[3]], mode: InterpolationMode.Bilinear, align_corners: _auxiliaryAlignCorners);
        return (main.MoveToOuterDisposeScope(), auxiliaryAtInput.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The network's graph, one line per declared layer (generated). Runs inside <see cref="forward"/>'s or
    /// <see cref="ForwardTraining"/>'s dispose scope; returns the main output and, when <paramref name="withAuxiliary"/>
    /// and the network declares one, the first auxiliary classifier's output at its own size (else null).
    /// </summary>
    protected abstract (Tensor Main, Tensor? Auxiliary) ForwardLayers(Tensor input, bool withAuxiliary);

    private void ThrowIfFusedInTraining()
    {
        if (IsFusedForInference && training)
            throw new InvalidOperationException($"{Descriptor.Name} was fused for inference and is eval-only; call eval() first.");
    }
}
