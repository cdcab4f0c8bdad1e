namespace EMANet.Runtime.Onnx;

/// <summary>A value of an ONNX graph under construction: the name of a graph input, an initializer or a node output.</summary>
public readonly record struct OnnxValue(string Name)
{
    /// <summary>An omitted optional input (the empty name, as the ONNX specification spells it).</summary>
    public static OnnxValue None { get; } = new("");

    public override string ToString() => Name;
}
