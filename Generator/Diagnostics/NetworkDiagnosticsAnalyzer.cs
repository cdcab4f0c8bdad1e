using System.Collections.Immutable;
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
            start.RegisterSymbolAction(symbolContext => Analyze(symbolContext, networkAttribute), SymbolKind.NamedType);
        });
    }

    private static void Analyze(SymbolAnalysisContext context, INamedTypeSymbol networkAttribute)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        foreach (var attribute in type.GetAttributes())
        {
            if (!SymbolEqualityComparer.Default.Equals(attribute.AttributeClass, networkAttribute)) continue;
            foreach (var diagnostic in NetworkDiagnostics.Collect(type, attribute, context.CancellationToken))
                context.ReportDiagnostic(diagnostic);
        }
    }
}
