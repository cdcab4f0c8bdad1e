using System;
using System.Collections.Generic;

namespace EMANet.Engine;

/// <summary>
/// One optional argument of a block constructor (<c>EMANet.Runtime.Blocks</c>): its parameter name, the value the
/// constructor uses when the argument is omitted, and the value a declared layer gives it.
/// </summary>
public sealed class BlockArgument
{
    public BlockArgument(string name, object defaultValue, Func<LayerDeclaration, object> read)
    {
        Name = name;
        Default = defaultValue;
        _read = read;
    }

    private readonly Func<LayerDeclaration, object> _read;

    /// <summary>The constructor parameter's name (the generated code passes it by name).</summary>
    public string Name { get; }

    /// <summary>
    /// What the constructor uses when the argument is omitted: the parameter's default value, or, for an array
    /// parameter whose default is null, the array the constructor substitutes (tests check both against the blocks).
    /// </summary>
    public object Default { get; }

    /// <summary>The argument's value for <paramref name="layer"/> (int, double, bool, <see cref="ResNetStem"/> or <see cref="EquatableArray{T}"/> of int).</summary>
    public object ValueFor(LayerDeclaration layer) => _read(layer);

    /// <summary>Whether <paramref name="layer"/> gives the default, so that the generated call can omit the argument.</summary>
    public bool IsDefaultFor(LayerDeclaration layer) => Equals(_read(layer), Default);
}

/// <summary>
/// The optional arguments of the block constructors the generator calls, in parameter order, with the defaults the
/// blocks declare: the generated constructor passes only the arguments whose declared value differs
/// (<c>new ConvBlock(128, 64, 3, norm: true, relu: true)</c>). The positional arguments (channels, kernel, depth) are
/// always passed. A test reflects every block constructor and fails when a default here and there disagree.
/// </summary>
public static class BlockConstructors
{
    /// <summary>Padding in pixels of a layer's convolution: the declared one, or "same" (dilation * (kernel - 1) / 2) for -1.</summary>
    public static int ResolvedPadding(LayerDeclaration l) => l.Padding < 0 ? CostLedger.SamePadding(l.Kernel, l.Dilation) : l.Padding;

    /// <summary><c>ResNet(depth, stem, outputStride, widthMultiplier, multiGrid, inputChannels)</c>; inputChannels is passed from the instance's input.</summary>
    public static readonly IReadOnlyList<BlockArgument> ResNet = new[]
    {
        new BlockArgument("stem", ResNetStem.Deep, l => l.Stem),
        new BlockArgument("outputStride", 8, l => l.OutputStride),
        new BlockArgument("widthMultiplier", 1.0, l => l.WidthMultiplier),
        new BlockArgument("multiGrid", EquatableArray.Of(1, 2, 4), l => l.MultiGrid),
        new BlockArgument("stemWidths", EquatableArray<int>.Empty, l => l.StemWidths),
        new BlockArgument("contractDilation", true, l => l.ContractDilation),
    };

    /// <summary><c>ConvBlock(inChannels, outChannels, kernel, stride, dilation, padding, groups, bias, norm, relu, dropout)</c>.</summary>
    public static readonly IReadOnlyList<BlockArgument> ConvBlock = new[]
    {
        new BlockArgument("stride", 1, l => l.Stride),
        new BlockArgument("dilation", 1, l => l.Dilation),
        new BlockArgument("padding", -1, l => l.Padding),
        new BlockArgument("groups", 1, l => l.Groups),
        new BlockArgument("bias", false, l => l.Bias),
        new BlockArgument("norm", false, l => l.Norm),
        new BlockArgument("relu", false, l => l.Relu),
        new BlockArgument("dropout", 0.0, l => l.Dropout),
    };

    /// <summary><c>Conv2d(inChannels, outChannels, kernelSize, stride, padding, dilation, groups, bias)</c> for a bare convolution member.</summary>
    public static readonly IReadOnlyList<BlockArgument> Conv2d = new[]
    {
        new BlockArgument("stride", 1L, l => (long)l.Stride),
        new BlockArgument("padding", 0L, l => (long)ResolvedPadding(l)),
        new BlockArgument("dilation", 1L, l => (long)l.Dilation),
        new BlockArgument("groups", 1L, l => (long)l.Groups),
        new BlockArgument("bias", true, l => l.Bias),
    };

    /// <summary><c>EmaUnit(channels, bases, iterations, momentum, renormalize)</c>.</summary>
    public static readonly IReadOnlyList<BlockArgument> EmaUnit = new[]
    {
        new BlockArgument("bases", 64, l => l.Bases),
        new BlockArgument("iterations", 3, l => l.Iterations),
        new BlockArgument("momentum", 0.9, l => l.Momentum),
        new BlockArgument("renormalize", false, l => l.Renormalize),
        new BlockArgument("style", EmaUnitStyle.Authors, l => l.Style),
    };

    /// <summary><c>Aspp(inChannels, outChannels, rates, imagePooling, dropout)</c>.</summary>
    public static readonly IReadOnlyList<BlockArgument> Aspp = new[]
    {
        new BlockArgument("outChannels", 256, l => l.OutChannels),
        new BlockArgument("rates", EquatableArray.Of(12, 24, 36), l => l.Rates),
        new BlockArgument("imagePooling", true, l => l.ImagePooling),
        new BlockArgument("dropout", 0.1, l => l.Dropout),
    };

    /// <summary><c>BilinearUpsample(alignCorners)</c>.</summary>
    public static readonly IReadOnlyList<BlockArgument> BilinearUpsample = new[]
    {
        new BlockArgument("alignCorners", true, l => l.AlignCorners),
    };
}
