using System;
using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Linq;
using EMANet.Engine;
using EMANet.Generator.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace EMANet.Generator.Diagnostics;

/// <summary>
/// Reports what the parser and the shape engine find in network declarations. Diagnostics come
/// from an analyzer rather than the generator (as the incremental-generator cookbook advises), so
/// that #pragma warning disable, .editorconfig severities and suppressions all apply, and the
/// generator's pipeline holds no locations.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class NetworkDiagnosticsAnalyzer : DiagnosticAnalyzer
{
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics => DiagnosticCatalog.All;

    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            var networkAttribute = start.Compilation.GetTypeByMetadataName(WellKnownNames.NetworkAttribute);
            if (networkAttribute is null) return;
            // Catalogue names of the assembly's networks: two networks of one name would leave NetworkCatalog.Find a silent choice.
            var names = new ConcurrentBag<(string Name, INamedTypeSymbol Type, Location Location)>();
            start.RegisterSymbolAction(symbolContext => Analyze(symbolContext, networkAttribute, names), SymbolKind.NamedType);
            start.RegisterCompilationEndAction(end => ReportDuplicateNames(end, names));
        });
    }

    private static void Analyze(SymbolAnalysisContext context, INamedTypeSymbol networkAttribute, ConcurrentBag<(string, INamedTypeSymbol, Location)> names)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        // The first [SegmentationNetwork] only: a second one on another partial part is C#'s own error (CS0579).
        var attribute = type.GetAttributes().FirstOrDefault(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, networkAttribute));
        if (attribute is null) return;
        foreach (var diagnostic in NetworkDiagnostics.Collect(type, attribute, context.CancellationToken))
            context.ReportDiagnostic(diagnostic);
        var location = attribute.ApplicationSyntaxReference?.GetSyntax(context.CancellationToken).GetLocation() ?? type.Locations.FirstOrDefault() ?? Location.None;
        names.Add((DeclarationParser.NetworkName(attribute, type), type, location));
    }

    private static void ReportDuplicateNames(CompilationAnalysisContext context, ConcurrentBag<(string Name, INamedTypeSymbol Type, Location Location)> names)
    {
        foreach (var group in names.GroupBy(n => n.Name, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1))
        {
            var all = group.OrderBy(n => n.Type.ToDisplayString(), StringComparer.Ordinal).ToArray();
            foreach (var (name, type, location) in all)
            {
                var others = string.Join(", ", all.Where(o => !SymbolEqualityComparer.Default.Equals(o.Type, type)).Select(o => $"'{o.Type.ToDisplayString()}'"));
                context.ReportDiagnostic(Diagnostic.Create(DiagnosticCatalog.DuplicateNetworkName, location, name, type.ToDisplayString(), others));
            }
        }
    }
}
