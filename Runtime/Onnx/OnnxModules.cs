using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EMANet.Runtime.Onnx;

/// <summary>
/// Export of any module a network's tree holds: the project's blocks through <see cref="IOnnxExportable"/>, and
/// the parameterless TorchSharp modules the blocks and the generator use (ReLU, dropout, max and average pooling,
/// global average pooling, Sequential) by their PyTorch semantics in evaluation mode.
/// </summary>
public static class OnnxModules
{
    /// <summary>Adds <paramref name="module"/>'s eval-mode forward on <paramref name="inputs"/> to <paramref name="g"/>.</summary>
    /// <exception cref="NotSupportedException">A module type with no ONNX export (named in the message).</exception>
    public static OnnxValue Export(OnnxGraphBuilder g, nn.Module module, params OnnxValue[] inputs)
    {
        if (module is IOnnxExportable exportable) return exportable.Export(g, inputs);
        var x = Single(module, inputs);
        switch (module)
        {
            case Sequential sequential:
                foreach (var (name, child) in sequential.named_children())
                    x = g.Child(name, child, x);
                return x;
            case ReLU:
                return g.Node("Relu", [x]);
            case Dropout or Dropout2d:
                return x;   // the identity in evaluation
            case MaxPool2d pool:
                if (pool.ceil_mode) throw new NotSupportedException("ONNX export: MaxPool2d with ceil_mode is not supported");
                return g.Node("MaxPool", [x], PoolAttributes(pool.kernel_size, pool.stride, pool.padding, pool.dilation));
            case AvgPool2d pool:
                if (pool.ceil_mode || pool.divisor_override is not null) throw new NotSupportedException("ONNX export: AvgPool2d with ceil_mode or divisor_override is not supported");
                return g.Node("AveragePool", [x], [.. PoolAttributes(pool.kernel_size, pool.stride, pool.padding, null), OnnxAttribute.Int("count_include_pad", pool.count_include_pad ? 1 : 0)]);
            case AdaptiveAvgPool2d pool when pool.output_size.All(s => s == 1):
                return g.Node("GlobalAveragePool", [x]);
            default:
                throw new NotSupportedException($"ONNX export: module '{module.GetName()}' of type {module.GetType().Name} has no ONNX export (implement {nameof(IOnnxExportable)})");
        }
    }

    /// <summary>The one input of a single-input module; throws naming the module otherwise.</summary>
    public static OnnxValue Single(nn.Module module, OnnxValue[] inputs) =>
        inputs.Length == 1 ? inputs[0] : throw new ArgumentException($"ONNX export: {module.GetType().Name} takes one input, got {inputs.Length}", nameof(inputs));

    private static Proto.AttributeProto[] PoolAttributes(long[] kernel, long[]? stride, long[]? padding, long[]? dilation)
    {
        var k = Pair(kernel);
        var s = stride is null || stride.Length == 0 ? k : Pair(stride);
        var p = padding is null || padding.Length == 0 ? [0L, 0L] : Pair(padding);
        var attributes = new List<Proto.AttributeProto>
        {
            OnnxAttribute.Ints("kernel_shape", k),
            OnnxAttribute.Ints("strides", s),
            OnnxAttribute.Ints("pads", p[0], p[1], p[0], p[1]),
        };
        if (dilation is { Length: > 0 }) attributes.Add(OnnxAttribute.Ints("dilations", Pair(dilation)));
        return attributes.ToArray();
    }

    private static long[] Pair(long[] values) => values.Length == 1 ? [values[0], values[0]] : [values[0], values[1]];
}
