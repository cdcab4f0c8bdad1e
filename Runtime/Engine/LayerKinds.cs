using System;
using System.Collections.Generic;
using System.Linq;

namespace EMANet.Engine;

/// <summary>
/// One layer kind as the parser, the engine and the emitter know it: the attributes that declare it and the member types
/// a field of it may have. (Its construction defaults are <see cref="BlockConstructors"/>; its shape-and-cost rule is
/// <see cref="ShapeEngine"/>'s case for <see cref="Kind"/>.)
/// </summary>
public sealed class LayerKindDefinition
{
    public LayerKindDefinition(LayerKind kind, string[] attributeNames, string[] memberTypes)
    {
        Kind = kind;
        AttributeNames = attributeNames;
        MemberTypes = memberTypes;
    }

    public LayerKind Kind { get; }

    /// <summary>Simple names of the attribute classes (namespace <c>EMANet</c>) that declare a layer of this kind.</summary>
    public IReadOnlyList<string> AttributeNames { get; }

    /// <summary>Full names of the types a field of this kind may be declared with, the first the usual one.</summary>
    public IReadOnlyList<string> MemberTypes { get; }
}

/// <summary>
/// Every layer kind, once: the parser maps an attribute to its kind and checks the field's type here, and a test checks
/// that every layer attribute of the vocabulary (Runtime/Declarations) has exactly one entry and every member type exists.
/// Adding a layer kind: an attribute class, a <see cref="LayerKind"/> value, an entry here, the engine's shape-and-cost
/// case, a <see cref="BlockConstructors"/> table if the block has optional arguments, and the emitter's construction case.
/// </summary>
public static class LayerKinds
{
    private const string Blocks = "EMANet.Runtime.Blocks.";
    private const string TorchModules = "TorchSharp.Modules.";

    public static readonly IReadOnlyList<LayerKindDefinition> All = new[]
    {
        new LayerKindDefinition(LayerKind.ResNet, new[] { "ResNetAttribute" }, new[] { Blocks + "ResNet" }),
        new LayerKindDefinition(LayerKind.Conv, new[] { "ConvAttribute", "ConvBnReluAttribute" }, new[] { Blocks + "ConvBlock", Blocks + "Conv2d" }),
        new LayerKindDefinition(LayerKind.Classifier, new[] { "ClassifierAttribute" }, new[] { Blocks + "Conv2d" }),
        // The project's BatchNorm2d, not TorchSharp's (whose training forward makes temporary Scalars; README.md, "TorchSharp Scalars").
        new LayerKindDefinition(LayerKind.BatchNorm, new[] { "BatchNormAttribute" }, new[] { Blocks + "BatchNorm2d" }),
        new LayerKindDefinition(LayerKind.ReLU, new[] { "ReLUAttribute" }, new[] { TorchModules + "ReLU" }),
        new LayerKindDefinition(LayerKind.Dropout, new[] { "DropoutAttribute" }, new[] { TorchModules + "Dropout2d" }),
        new LayerKindDefinition(LayerKind.MaxPool, new[] { "MaxPoolAttribute" }, new[] { TorchModules + "MaxPool2d" }),
        new LayerKindDefinition(LayerKind.AvgPool, new[] { "AvgPoolAttribute" }, new[] { TorchModules + "AvgPool2d" }),
        new LayerKindDefinition(LayerKind.GlobalAvgPool, new[] { "GlobalAvgPoolAttribute" }, new[] { TorchModules + "AdaptiveAvgPool2d" }),
        new LayerKindDefinition(LayerKind.Upsample, new[] { "UpsampleAttribute" }, new[] { Blocks + "BilinearUpsample" }),
        new LayerKindDefinition(LayerKind.Concat, new[] { "ConcatAttribute" }, new[] { Blocks + "Concatenate" }),
        new LayerKindDefinition(LayerKind.Add, new[] { "AddAttribute" }, new[] { Blocks + "ResidualAdd" }),
        new LayerKindDefinition(LayerKind.EmaUnit, new[] { "EmaUnitAttribute" }, new[] { Blocks + "EmaUnit" }),
        new LayerKindDefinition(LayerKind.Aspp, new[] { "AsppAttribute" }, new[] { Blocks + "Aspp" }),
    };

    private static readonly Dictionary<string, LayerKindDefinition> ByAttribute =
        All.SelectMany(d => d.AttributeNames.Select(a => (a, d))).ToDictionary(p => p.a, p => p.d, StringComparer.Ordinal);

    private static readonly Dictionary<LayerKind, LayerKindDefinition> ByKind = All.ToDictionary(d => d.Kind);

    /// <summary>The kind an attribute class (simple name, e.g. "ConvBnReluAttribute") declares; null for one that is not a layer.</summary>
    public static LayerKindDefinition? ForAttribute(string attributeName) =>
        ByAttribute.TryGetValue(attributeName, out var definition) ? definition : null;

    /// <summary>The definition of <paramref name="kind"/>.</summary>
    public static LayerKindDefinition Of(LayerKind kind) => ByKind[kind];
}
