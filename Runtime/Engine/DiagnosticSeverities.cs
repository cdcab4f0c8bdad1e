using System.Collections.Generic;

namespace EMANet.Engine;

/// <summary>
/// The one place where each diagnostic's default severity is decided. The engine's findings take
/// their severity from here, and so do the compiler's descriptors (Generator/Diagnostics/DiagnosticCatalog.cs)
/// and, through a test, Generator/AnalyzerReleases.Unshipped.md. A user can still change a severity
/// per project or file (.editorconfig <c>dotnet_diagnostic.EMA0013.severity</c>) for compiler builds.
/// </summary>
public static class DiagnosticSeverities
{
    /// <summary>Warnings are declarations that work but probably not as meant; everything else is an error (nothing is generated).</summary>
    private static readonly Dictionary<string, FindingSeverity> Table = new()
    {
        [DiagnosticIds.NotPartial] = FindingSeverity.Error,
        [DiagnosticIds.MemberTypeMismatch] = FindingSeverity.Error,
        [DiagnosticIds.InvalidArgument] = FindingSeverity.Error,
        [DiagnosticIds.ChannelMismatch] = FindingSeverity.Error,
        [DiagnosticIds.SpatialMismatch] = FindingSeverity.Error,
        [DiagnosticIds.OutputStrideUnreachable] = FindingSeverity.Error,
        [DiagnosticIds.SpatialCollapse] = FindingSeverity.Error,
        [DiagnosticIds.SizeNotKept] = FindingSeverity.Error,
        [DiagnosticIds.EmaOutOfRange] = FindingSeverity.Error,
        [DiagnosticIds.UnknownLayer] = FindingSeverity.Error,
        [DiagnosticIds.ForwardReference] = FindingSeverity.Error,
        [DiagnosticIds.DuplicateLayerName] = FindingSeverity.Error,
        [DiagnosticIds.InputNotDivisible] = FindingSeverity.Warning,
        [DiagnosticIds.ClassifierMismatch] = FindingSeverity.Error,
        [DiagnosticIds.OutputSizeMismatch] = FindingSeverity.Error,
        [DiagnosticIds.UnsupportedDeclaration] = FindingSeverity.Error,
        [DiagnosticIds.PaddingChangesSize] = FindingSeverity.Warning,
        [DiagnosticIds.DuplicateNetworkName] = FindingSeverity.Error,
    };

    /// <summary>The default severity of <paramref name="id"/>; an id missing from the table is an error (a test checks that none is missing).</summary>
    public static FindingSeverity Of(string id) => Table.TryGetValue(id, out var severity) ? severity : FindingSeverity.Error;

    /// <summary>Whether the table decides <paramref name="id"/>.</summary>
    public static bool Decides(string id) => Table.ContainsKey(id);
}
