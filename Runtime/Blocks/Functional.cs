using EMANet.Runtime.Onnx;
using static TorchSharp.torch;

namespace EMANet.Runtime.Blocks;

/// <summary>Bilinear resize to another map's size or by a scale. No parameters.</summary>
public sealed class BilinearUpsample(bool alignCorners = true) : nn.Module(nameof(BilinearUpsample)), IOnnxExportable
{
    public bool AlignCorners { get; } = alignCorners;

    /// <summary>Resizes <paramref name="input"/> to the height and width of <paramref name="sizeOf"/>.</summary>
    public Tensor forward(Tensor input, Tensor sizeOf) =>
        nn.functional.interpolate(input, new long[] { sizeOf.shape[^2], sizeOf.shape[^1] }, mode: InterpolationMode.Bilinear, align_corners: AlignCorners);

    /// <summary>Resizes by <paramref name="scale"/> (output size floor(size * scale), as PyTorch).</summary>
    public Tensor forward(Tensor input, double scale) =>
        nn.functional.interpolate(input, new long[] { (long)Math.Floor(input.shape[^2] * scale), (long)Math.Floor(input.shape[^1] * scale) },
            mode: InterpolationMode.Bilinear, align_corners: AlignCorners);

    /// <summary>The export of <c>forward(input, sizeOf)</c>: inputs [input, sizeOf]; the size is read from sizeOf's shape in the graph.</summary>
    public OnnxValue Export(OnnxGraphBuilder g, params OnnxValue[] inputs)
    {
        if (inputs.Length != 2) throw new ArgumentException($"ONNX export: {nameof(BilinearUpsample)} resizes [input, sizeOf], got {inputs.Length} inputs (use {nameof(ExportScaled)} for a scale)", nameof(inputs));
        return Resize(g, inputs[0], g.SpatialSize(inputs[1]), AlignCorners);
    }

    /// <summary>The export of <c>forward(input, scale)</c>: size floor(size * scale) computed in the graph (Cast, Mul, Floor).</summary>
    public OnnxValue ExportScaled(OnnxGraphBuilder g, OnnxValue input, double scale)
    {
        var size = g.Node("Cast", [g.SpatialSize(input)], OnnxAttribute.Int("to", (long)Onnx.Proto.TensorProto.Types.DataType.Double));
        var scaled = g.Node("Floor", [g.Node("Mul", [size, g.Double(scale)])]);
        return Resize(g, input, g.Node("Cast", [scaled], OnnxAttribute.Int("to", (long)Onnx.Proto.TensorProto.Types.DataType.Int64)), AlignCorners);
    }

    /// <summary>
    /// ONNX Resize (linear) of B x C x h x w <paramref name="input"/> to <paramref name="spatialSize"/> (int64 [H, W]): the
    /// coordinate mode <c>align_corners</c> for align_corners = true and <c>half_pixel</c> for false (both PyTorch's
    /// mappings, upsample_bilinear2d, when the output size is given rather than a scale).
    /// </summary>
    public static OnnxValue Resize(OnnxGraphBuilder g, OnnxValue input, OnnxValue spatialSize, bool alignCorners)
    {
        var sizes = g.Node("Concat", [g.BatchAndChannels(input), spatialSize], OnnxAttribute.Int("axis", 0));
        return g.Node("Resize", [input, OnnxValue.None, OnnxValue.None, sizes],
            OnnxAttribute.String("mode", "linear"),
            OnnxAttribute.String("coordinate_transformation_mode", alignCorners ? "align_corners" : "half_pixel"));
    }
}

/// <summary>Concatenation along channels. No parameters.</summary>
public sealed class Concatenate() : nn.Module(nameof(Concatenate)), IOnnxExportable
{
    public Tensor forward(params Tensor[] inputs) => cat(inputs, 1);

    /// <summary>ONNX Concat on axis 1.</summary>
    public OnnxValue Export(OnnxGraphBuilder g, params OnnxValue[] inputs) => g.Node("Concat", inputs, OnnxAttribute.Int("axis", 1));
}

/// <summary>Element-wise sum (a residual add). No parameters.</summary>
public sealed class ResidualAdd() : nn.Module(nameof(ResidualAdd)), IOnnxExportable
{
    public Tensor forward(params Tensor[] inputs)
    {
        var sum = inputs[0].add(inputs[1], Scalars.One);
        for (int i = 2; i < inputs.Length; i++) sum = sum.add(inputs[i], Scalars.One);
        return sum;
    }

    /// <summary>ONNX Add, left to right as the forward.</summary>
    public OnnxValue Export(OnnxGraphBuilder g, params OnnxValue[] inputs)
    {
        if (inputs.Length < 2) throw new ArgumentException($"ONNX export: {nameof(ResidualAdd)} sums two or more inputs, got {inputs.Length}", nameof(inputs));
        var sum = g.Node("Add", [inputs[0], inputs[1]]);
        for (int i = 2; i < inputs.Length; i++) sum = g.Node("Add", [sum, inputs[i]]);
        return sum;
    }
}
