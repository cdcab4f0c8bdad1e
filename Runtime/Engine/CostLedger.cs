using System.Collections.Generic;

namespace EMANet.Engine;

/// <summary>
/// Counts parameters, multiply-accumulates, FLOPs and output memory of primitive operations, by
/// the paper's rules (EMANET.md section 4): conv k*k*Cin/g*Cout*Hout*Wout MACs (+ Cout*Hout*Wout
/// for a bias); BN 2 FLOPs per element; ReLU 1 per element; pooling 1 per input element;
/// dropout 0; a matrix product m x n times n x p is m*n*p. Operations the paper's counter has no
/// module for are counted too (residual adds, softmax, normalisations, interpolation) and the
/// README states their rules. Memory is the float32 bytes of each operation's output.
/// </summary>
public sealed class CostLedger
{
    private const int BytesPerElement = 4;
    private readonly List<LayerCost> _rows = new();

    public IReadOnlyList<LayerCost> Rows => _rows;

    public bool Auxiliary { get; set; }

    // Counts are checked: a declaration whose sizes overflow 64 bits throws OverflowException,
    // which the engine reports as an invalid argument instead of wrapping to nonsense.
    public void Add(string name, string kind, FeatureShape output, long parameters, long macs, long flops, bool countMemory = true) =>
        _rows.Add(new LayerCost(name, kind, output, parameters, macs, flops, countMemory ? checked(output.Elements * BytesPerElement) : 0, Auxiliary));

    /// <summary>
    /// PyTorch's floor((size + 2p - d(k-1) - 1) / s) + 1; 0 when the (dilated) kernel does not fit
    /// the padded input, which PyTorch refuses (C#'s truncating division would round -1/2 up to 0
    /// and report one pixel).
    /// </summary>
    public static int ConvOutput(int size, int kernel, int stride, int dilation, int padding)
    {
        long span = checked((long)size + 2L * padding - (long)dilation * (kernel - 1) - 1);
        return span < 0 ? 0 : checked((int)(span / stride + 1));
    }

    public static int SamePadding(int kernel, int dilation) => checked(dilation * (kernel - 1) / 2);

    public FeatureShape Conv(string name, FeatureShape input, int outChannels, int kernel, int stride = 1, int dilation = 1, int padding = -1, int groups = 1, bool bias = false)
    {
        if (padding < 0) padding = SamePadding(kernel, dilation);
        var output = new FeatureShape(outChannels,
            ConvOutput(input.Height, kernel, stride, dilation, padding),
            ConvOutput(input.Width, kernel, stride, dilation, padding));
        long weights = checked((long)kernel * kernel * (input.Channels / groups) * outChannels);
        long macs = checked(weights * output.Pixels);
        long biasAdds = bias ? output.Elements : 0;
        Add(name, "Conv2d", output, checked(weights + (bias ? outChannels : 0)), macs, checked(macs + biasAdds));
        return output;
    }

    public FeatureShape BatchNorm(string name, FeatureShape shape)
    {
        Add(name, "BatchNorm2d", shape, 2L * shape.Channels, 0, checked(2 * shape.Elements));
        return shape;
    }

    public FeatureShape Relu(string name, FeatureShape shape)
    {
        Add(name, "ReLU", shape, 0, 0, shape.Elements);
        return shape;
    }

    public FeatureShape Dropout(string name, FeatureShape shape)
    {
        Add(name, "Dropout2d", shape, 0, 0, 0);
        return shape;
    }

    public FeatureShape MaxPool(string name, FeatureShape input, int kernel, int stride, int padding) =>
        Pool(name, "MaxPool2d", input, kernel, stride, padding);

    public FeatureShape AvgPool(string name, FeatureShape input, int kernel, int stride, int padding) =>
        Pool(name, "AvgPool2d", input, kernel, stride, padding);

    private FeatureShape Pool(string name, string kind, FeatureShape input, int kernel, int stride, int padding)
    {
        var output = new FeatureShape(input.Channels,
            ConvOutput(input.Height, kernel, stride, 1, padding),
            ConvOutput(input.Width, kernel, stride, 1, padding));
        Add(name, kind, output, 0, 0, input.Elements);
        return output;
    }

    public FeatureShape GlobalAvgPool(string name, FeatureShape input)
    {
        var output = new FeatureShape(input.Channels, 1, 1);
        Add(name, "AdaptiveAvgPool2d", output, 0, 0, input.Elements);
        return output;
    }

    /// <summary>Bilinear interpolation: 4 multiplies and 3 adds per output element.</summary>
    public FeatureShape Upsample(string name, FeatureShape input, int height, int width)
    {
        var output = new FeatureShape(input.Channels, height, width);
        Add(name, "Upsample", output, 0, 0, checked(7 * output.Elements));
        return output;
    }

    /// <summary>Element-wise sum of <paramref name="operands"/> maps: one add per element per extra operand.</summary>
    public FeatureShape Sum(string name, FeatureShape shape, int operands = 2)
    {
        Add(name, "Add", shape, 0, 0, checked((operands - 1) * shape.Elements));
        return shape;
    }

    public FeatureShape Concat(string name, FeatureShape output)
    {
        Add(name, "Concat", output, 0, 0, 0);
        return output;
    }
}
