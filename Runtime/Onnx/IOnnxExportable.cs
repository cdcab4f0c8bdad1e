namespace EMANet.Runtime.Onnx;

/// <summary>
/// A module that writes its inference computation into an ONNX graph. Implemented by every block of
/// <c>EMANet.Runtime.Blocks</c> next to its forward (a test enforces it), so that the exported graph is
/// the forward's computation on the block's current module tree: batch norms that
/// <c>FuseForInference</c> folded are absent, dropout is the identity (eval), everything else is the
/// same operation with the same parameters.
/// </summary>
public interface IOnnxExportable
{
    /// <summary>
    /// Adds the block's eval-mode forward to <paramref name="g"/> and returns its output. <paramref name="inputs"/>
    /// are the forward's tensor arguments, in order (one for most blocks; two for an upsample to another map's
    /// size; two or more for a concatenation or a sum). Parameters become initializers named by the builder's
    /// current scope plus the state-dict key (<c>backbone.layer1.0.conv1.weight</c>).
    /// </summary>
    /// <exception cref="ArgumentException">The number of inputs is not what the forward takes.</exception>
    OnnxValue Export(OnnxGraphBuilder g, params OnnxValue[] inputs);
}
