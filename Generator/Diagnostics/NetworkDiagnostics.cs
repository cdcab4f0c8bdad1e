using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using EMANet.Engine;
using EMANet.Generator.Parsing;
using Microsoft.CodeAnalysis;

namespace EMANet.Generator.Diagnostics;

/// <summary>Parses one network and runs the engine; turns every problem into a located diagnostic.</summary>
internal static class NetworkDiagnostics
{
    /// <summary>
    /// Property of an EMA0010 diagnostic about a reference (From, SizeOf, Inputs[i]): the outputs the layer could read instead,
    /// one per line (the network input and the outputs of the layers declared before it), for the nearest-name code fix.
    /// </summary>
    public const string KnownOutputsKey = "KnownOutputs";

    private static readonly HashSet<string> LeavesLayersIntact = new() { DiagnosticIds.NotPartial, DiagnosticIds.MemberTypeMismatch };

    public static IEnumerable<Diagnostic> Collect(INamedTypeSymbol type, AttributeData attribute, CancellationToken cancellationToken)
    {
        var parsed = DeclarationParser.Parse(type, attribute, cancellationToken);
        foreach (var problem in parsed.Problems)
            yield return Diagnostic.Create(DiagnosticCatalog.For(problem.Id), problem.Location, problem.Properties, problem.Arguments);
        // Problems that leave every layer's values as declared (a wrong field type, a missing partial) do not stop the
        // shape engine: the user sees the independent errors of one declaration in one build.
        if (parsed.Problems.Any(p => !LeavesLayersIntact.Contains(p.Id))) yield break;
        var declaration = parsed.Model.Declaration;
        var analysis = ShapeEngine.Analyze(declaration);
        foreach (var finding in analysis.Findings)
        {
            var subject = finding.LayerIndex >= 0 && finding.LayerIndex < declaration.Layers.Count
                ? $"layer '{declaration.Layers[finding.LayerIndex].Name}'"
                : $"network '{declaration.Name}'";
            yield return Diagnostic.Create(DiagnosticCatalog.For(finding.Id), parsed.LocationOf(finding.LayerIndex, finding.Argument),
                PropertiesOf(finding, analysis), subject, DetailOf(finding.Message, subject));
        }
    }

    /// <summary>
    /// The engine's message without its leading "layer 'x': " (or "network 'x': "): the descriptor's format names the subject once.
    /// Messages that go on from the subject in a sentence ("layer 'x' adds ...") are kept whole.
    /// </summary>
    internal static string DetailOf(string message, string subject) =>
        message.StartsWith(subject + ": ", StringComparison.Ordinal) ? message.Substring(subject.Length + 2) : message;

    private static bool IsReference(string? argument) =>
        argument is "From" or "SizeOf" || (argument?.StartsWith("Inputs[", StringComparison.Ordinal) ?? false);

    private static ImmutableDictionary<string, string?> PropertiesOf(EngineFinding finding, NetworkAnalysis analysis)
    {
        if (finding.Id != DiagnosticIds.UnknownLayer || finding.LayerIndex < 0 || !IsReference(finding.Argument))
            return ImmutableDictionary<string, string?>.Empty;
        var known = new[] { ShapeEngine.InputName }
            .Concat(analysis.Outputs.Where(o => o.LayerIndex < finding.LayerIndex).Select(o => o.Name))
            .Distinct(StringComparer.Ordinal);
        return ImmutableDictionary<string, string?>.Empty.Add(KnownOutputsKey, string.Join("\n", known));
    }
}
