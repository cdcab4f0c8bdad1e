using System.Collections.Generic;
using System.Linq;
using System.Threading;
using EMANet.Engine;
using EMANet.Generator.Parsing;
using Microsoft.CodeAnalysis;

namespace EMANet.Generator.Diagnostics;

/// <summary>Parses one network and runs the engine; turns every problem into a located diagnostic.</summary>
internal static class NetworkDiagnostics
{
    private static readonly HashSet<string> LeavesLayersIntact = new() { DiagnosticIds.NotPartial, DiagnosticIds.MemberTypeMismatch };

    public static IEnumerable<Diagnostic> Collect(INamedTypeSymbol type, AttributeData attribute, CancellationToken cancellationToken)
    {
        var parsed = DeclarationParser.Parse(type, attribute, cancellationToken);
        foreach (var problem in parsed.Problems)
            yield return Diagnostic.Create(DiagnosticCatalog.For(problem.Id), problem.Location, problem.Message);
        // Problems that leave every layer's values as declared (a wrong field type, a missing partial) do not stop the
        // shape engine: the user sees the independent errors of one declaration in one build.
        if (parsed.Problems.Any(p => !LeavesLayersIntact.Contains(p.Id))) yield break;
        var analysis = ShapeEngine.Analyze(parsed.Model.Declaration);
        foreach (var finding in analysis.Findings)
            yield return Diagnostic.Create(DiagnosticCatalog.For(finding.Id), parsed.LocationOf(finding.LayerIndex, finding.Argument), finding.Message);
    }
}
