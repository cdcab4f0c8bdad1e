using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using EMANet.Engine;
using Microsoft.CodeAnalysis;

namespace EMANet.Generator.Diagnostics;

/// <summary>
/// Every diagnostic the project reports, with a stable id (see AnalyzerReleases.*.md). Messages
/// come whole from the engine or the parser, which know the layer and the numbers.
/// </summary>
internal static class DiagnosticCatalog
{
    private const string Category = "EMANet.Network";

    private static DiagnosticDescriptor Error(string id, string title) =>
        new(id, title, "{0}", Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: "README.md#diagnostics");

    private static DiagnosticDescriptor Warning(string id, string title) =>
        new(id, title, "{0}", Category, DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: "README.md#diagnostics");

    public static readonly DiagnosticDescriptor NotPartial = Error(DiagnosticIds.NotPartial, "Network class must be partial");
    public static readonly DiagnosticDescriptor MemberTypeMismatch = Error(DiagnosticIds.MemberTypeMismatch, "Field type does not fit its layer");
    public static readonly DiagnosticDescriptor InvalidArgument = Error(DiagnosticIds.InvalidArgument, "Invalid layer argument");
    public static readonly DiagnosticDescriptor ChannelMismatch = Error(DiagnosticIds.ChannelMismatch, "Channel counts do not match");
    public static readonly DiagnosticDescriptor SpatialMismatch = Error(DiagnosticIds.SpatialMismatch, "Spatial sizes do not match");
    public static readonly DiagnosticDescriptor OutputStrideUnreachable = Error(DiagnosticIds.OutputStrideUnreachable, "Output stride cannot be reached");
    public static readonly DiagnosticDescriptor SpatialCollapse = Error(DiagnosticIds.SpatialCollapse, "Spatial size collapses to zero");
    public static readonly DiagnosticDescriptor SizeNotKept = Error(DiagnosticIds.SizeNotKept, "Kernel, dilation and padding do not keep the size");
    public static readonly DiagnosticDescriptor PaddingChangesSize = Warning(DiagnosticIds.PaddingChangesSize, "Explicit padding changes the size at stride 1");
    public static readonly DiagnosticDescriptor EmaOutOfRange = Error(DiagnosticIds.EmaOutOfRange, "EMA bases, iterations or momentum out of range");
    public static readonly DiagnosticDescriptor UnknownLayer = Error(DiagnosticIds.UnknownLayer, "Reference to a layer that does not exist");
    public static readonly DiagnosticDescriptor ForwardReference = Error(DiagnosticIds.ForwardReference, "Reference to a layer that comes later");
    public static readonly DiagnosticDescriptor DuplicateLayerName = Error(DiagnosticIds.DuplicateLayerName, "Duplicate layer name");
    public static readonly DiagnosticDescriptor InputNotDivisible = Warning(DiagnosticIds.InputNotDivisible, "Input size does not fit the output stride");
    public static readonly DiagnosticDescriptor ClassifierMismatch = Error(DiagnosticIds.ClassifierMismatch, "Network output does not have one channel per class");
    public static readonly DiagnosticDescriptor OutputSizeMismatch = Error(DiagnosticIds.OutputSizeMismatch, "Network output is not at the input size");
    public static readonly DiagnosticDescriptor UnsupportedDeclaration = Error(DiagnosticIds.UnsupportedDeclaration, "Declaration the generator cannot use");
    // Reported once the whole compilation is seen (the IDE needs the CompilationEnd tag to know that).
    public static readonly DiagnosticDescriptor DuplicateNetworkName = new(DiagnosticIds.DuplicateNetworkName, "Two networks with one name", "{0}", Category,
        DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: "README.md#diagnostics", customTags: WellKnownDiagnosticTags.CompilationEnd);

    public static ImmutableArray<DiagnosticDescriptor> All { get; } = ImmutableArray.Create(
        NotPartial, MemberTypeMismatch, InvalidArgument, ChannelMismatch, SpatialMismatch, OutputStrideUnreachable, SpatialCollapse,
        SizeNotKept, PaddingChangesSize, EmaOutOfRange, UnknownLayer, ForwardReference, DuplicateLayerName, InputNotDivisible,
        ClassifierMismatch, OutputSizeMismatch, UnsupportedDeclaration, DuplicateNetworkName);

    private static readonly Dictionary<string, DiagnosticDescriptor> ById = All.ToDictionary(d => d.Id);

    public static DiagnosticDescriptor For(string id) => ById.TryGetValue(id, out var descriptor) ? descriptor : UnsupportedDeclaration;
}
