using EMANet.Engine;

namespace EMANet.Runtime.Networks;

/// <summary>
/// Static facts of a generated network type: its declaration (the layer table as data) and the
/// compile-time costs at the declared input. <see cref="Analyze"/> re-runs the shared engine for
/// any other input size or class count.
/// </summary>
public sealed class NetworkDescriptor
{
    public NetworkDescriptor(NetworkDeclaration declaration, Type networkType, long parameterCount, long multiplyAccumulates, long flops, long activationBytes)
    {
        Declaration = declaration;
        NetworkType = networkType;
        ParameterCount = parameterCount;
        MultiplyAccumulates = multiplyAccumulates;
        Flops = flops;
        ActivationBytes = activationBytes;
    }

    public NetworkDeclaration Declaration { get; }
    public Type NetworkType { get; }
    public string Name => Declaration.Name;
    public TensorShape InputShape => new(Declaration.InputChannels, Declaration.InputHeight, Declaration.InputWidth);
    public int Classes => Declaration.Classes;

    /// <summary>Parameters of the inference path at the declared input (EMA bases included).</summary>
    public long ParameterCount { get; }
    public long MultiplyAccumulates { get; }
    public long Flops { get; }
    public long ActivationBytes { get; }

    /// <summary>Input size over the backbone output's size at the declared input (1 without a backbone).</summary>
    public int OutputStride => DeclaredAnalysis.OutputStride;

    /// <summary>
    /// Every operation of one forward pass at the declared input, batch 1, auxiliary heads flagged: the rows the
    /// compiler summed into the constants above. Computed on first use by the same engine source the generator
    /// compiles (Runtime/Engine), so it equals the compiler's table by construction (a test checks the totals).
    /// </summary>
    public IReadOnlyList<LayerCost> CostTable => DeclaredAnalysis.Layers;

    /// <summary>The engine's analysis at the declared input and classes, computed once.</summary>
    public NetworkAnalysis DeclaredAnalysis => LazyInitializer.EnsureInitialized(ref _declaredAnalysis, () => Analyze());

    private NetworkAnalysis? _declaredAnalysis;

    /// <summary>The cost table at another input size and class count, through the same engine the compiler used.</summary>
    public NetworkAnalysis Analyze(TensorShape? input = null, int? classes = null) =>
        ShapeEngine.Analyze(Declaration, input is { } s ? new FeatureShape(s.Channels, s.Height, s.Width) : null, classes);
}
