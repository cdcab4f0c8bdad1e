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

    /// <summary>The cost table at another input size and class count, through the same engine the compiler used.</summary>
    public NetworkAnalysis Analyze(TensorShape? input = null, int? classes = null) =>
        ShapeEngine.Analyze(Declaration, input is { } s ? new FeatureShape(s.Channels, s.Height, s.Width) : null, classes);
}
