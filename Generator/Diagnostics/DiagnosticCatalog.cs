using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using EMANet.Engine;
using Microsoft.CodeAnalysis;

namespace EMANet.Generator.Diagnostics;

/// <summary>
/// Every diagnostic the project reports: one row per id with its title and message format. The
/// severity comes from the engine's table (<see cref="DiagnosticSeverities"/>), the help link is the
/// id's section of docs/diagnostics.md, and AnalyzerReleases.Unshipped.md lists the same rows (a test
/// compares them).
/// </summary>
/// <remarks>
/// Message arguments of the shape and parse findings: {0} is what the finding is about ("layer 'head'",
/// "network 'tiny'", "field 'x'"), {1} what is wrong, with the numbers and where they came from.
/// </remarks>
internal static class DiagnosticCatalog
{
    private const string Category = "EMANet.Network";

    /// <summary>Where each id is explained (what it means, an example, how to fix it).</summary>
    public const string HelpBase = "https://github.com/emanet-gen/EMANet.Gen/blob/main/docs/diagnostics.md#";

    private static DiagnosticDescriptor Rule(string id, string title, string messageFormat, params string[] customTags) =>
        new(id, title, messageFormat, Category,
            DiagnosticSeverities.Of(id) == FindingSeverity.Warning ? DiagnosticSeverity.Warning : DiagnosticSeverity.Error,
            isEnabledByDefault: true, description: null, helpLinkUri: HelpBase + id.ToLowerInvariant(), customTags: customTags);

    public static readonly DiagnosticDescriptor NotPartial = Rule(DiagnosticIds.NotPartial,
        "Network class must be partial",
        "Network class '{0}' must be declared partial so that the generator can add its constructor and forward");
    public static readonly DiagnosticDescriptor MemberTypeMismatch = Rule(DiagnosticIds.MemberTypeMismatch,
        "Field type does not fit its layer",
        "Field '{0}' is declared as '{1}' but its [{2}] layer is {3}");
    public static readonly DiagnosticDescriptor InvalidArgument = Rule(DiagnosticIds.InvalidArgument,
        "Invalid layer argument",
        "Invalid argument in {0}: {1}");
    public static readonly DiagnosticDescriptor ChannelMismatch = Rule(DiagnosticIds.ChannelMismatch,
        "Channel counts do not match",
        "Channel counts do not match in {0}: {1}");
    public static readonly DiagnosticDescriptor SpatialMismatch = Rule(DiagnosticIds.SpatialMismatch,
        "Spatial sizes do not match",
        "Spatial sizes do not match in {0}: {1}");
    public static readonly DiagnosticDescriptor OutputStrideUnreachable = Rule(DiagnosticIds.OutputStrideUnreachable,
        "Output stride cannot be reached",
        "Output stride cannot be reached in {0}: {1}");
    public static readonly DiagnosticDescriptor SpatialCollapse = Rule(DiagnosticIds.SpatialCollapse,
        "Spatial size collapses to zero",
        "Spatial size collapses to zero in {0}: {1}");
    public static readonly DiagnosticDescriptor SizeNotKept = Rule(DiagnosticIds.SizeNotKept,
        "Kernel, dilation and padding do not keep the size",
        "Kernel and dilation do not keep the size in {0}: {1}");
    public static readonly DiagnosticDescriptor PaddingChangesSize = Rule(DiagnosticIds.PaddingChangesSize,
        "Explicit padding changes the size at stride 1",
        "Padding changes the size in {0}: {1}");
    public static readonly DiagnosticDescriptor EmaOutOfRange = Rule(DiagnosticIds.EmaOutOfRange,
        "EMA bases, iterations or momentum out of range",
        "EMA setting out of range in {0}: {1}");
    public static readonly DiagnosticDescriptor UnknownLayer = Rule(DiagnosticIds.UnknownLayer,
        "Reference to a layer that does not exist",
        "Unknown layer reference in {0}: {1}");
    public static readonly DiagnosticDescriptor ForwardReference = Rule(DiagnosticIds.ForwardReference,
        "Reference to a layer that comes later",
        "Reference to a later layer in {0}: {1}");
    public static readonly DiagnosticDescriptor DuplicateLayerName = Rule(DiagnosticIds.DuplicateLayerName,
        "Duplicate layer name",
        "Duplicate layer name in {0}: {1}");
    public static readonly DiagnosticDescriptor InputNotDivisible = Rule(DiagnosticIds.InputNotDivisible,
        "Input size does not fit the output stride",
        "Input size of {0} does not fit the output stride: {1}");
    public static readonly DiagnosticDescriptor ClassifierMismatch = Rule(DiagnosticIds.ClassifierMismatch,
        "Network output does not have one channel per class",
        "Output of {0} does not have one channel per class: {1}");
    public static readonly DiagnosticDescriptor OutputSizeMismatch = Rule(DiagnosticIds.OutputSizeMismatch,
        "Network output is not at the input size",
        "Output of {0} is not at the input size: {1}");
    public static readonly DiagnosticDescriptor UnsupportedDeclaration = Rule(DiagnosticIds.UnsupportedDeclaration,
        "Declaration the generator cannot use",
        "Declaration the generator cannot use in {0}: {1}");
    // Reported once the whole compilation is seen (the IDE needs the CompilationEnd tag to know that).
    public static readonly DiagnosticDescriptor DuplicateNetworkName = Rule(DiagnosticIds.DuplicateNetworkName,
        "Two networks with one name",
        "Network name '{0}' of '{1}' is also the name of {2} in this assembly; the catalogue finds networks by name (case-insensitive), so give each a distinct name",
        WellKnownDiagnosticTags.CompilationEnd);

    public static ImmutableArray<DiagnosticDescriptor> All { get; } = ImmutableArray.Create(
        NotPartial, MemberTypeMismatch, InvalidArgument, ChannelMismatch, SpatialMismatch, OutputStrideUnreachable, SpatialCollapse,
        SizeNotKept, PaddingChangesSize, EmaOutOfRange, UnknownLayer, ForwardReference, DuplicateLayerName, InputNotDivisible,
        ClassifierMismatch, OutputSizeMismatch, UnsupportedDeclaration, DuplicateNetworkName);

    private static readonly Dictionary<string, DiagnosticDescriptor> ById = All.ToDictionary(d => d.Id);

    public static DiagnosticDescriptor For(string id) => ById.TryGetValue(id, out var descriptor) ? descriptor : UnsupportedDeclaration;
}
