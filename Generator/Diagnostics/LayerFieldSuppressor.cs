using System.Collections.Immutable;
using System.Linq;
using EMANet.Generator.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace EMANet.Generator.Diagnostics;

/// <summary>
/// Layer fields of a [SegmentationNetwork] class are assigned by the generated constructor. When the
/// declaration has an error, nothing is generated, and the compiler would add "never assigned" /
/// "non-nullable field uninitialized" warnings for every layer field, burying the EMA diagnostic
/// that says what is wrong (and failing builds with TreatWarningsAsErrors). This suppressor removes
/// exactly those warnings, and only on fields that carry a layer attribute in a network class.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class LayerFieldSuppressor : DiagnosticSuppressor
{
    /// <summary>The compiler's warnings about a field nobody assigns or reads.</summary>
    private static readonly ImmutableArray<(string Id, string Why)> Suppressed = ImmutableArray.Create(
        ("CS0169", "never used"),
        ("CS0649", "never assigned"),
        ("CS8618", "non-nullable field uninitialized"),
        ("IDE0044", "could be readonly"),
        ("IDE0051", "unused private member"),
        ("IDE0052", "unread private member"));

    private static readonly ImmutableDictionary<string, SuppressionDescriptor> ById = Suppressed.ToImmutableDictionary(
        s => s.Id,
        s => new SuppressionDescriptor("EMAS" + s.Id.Substring(s.Id.Length - 4), s.Id,
            $"A layer field of a [SegmentationNetwork] class is assigned by the generated constructor ({s.Why} does not apply)"));

    public override ImmutableArray<SuppressionDescriptor> SupportedSuppressions { get; } = ById.Values.OrderBy(d => d.Id).ToImmutableArray();

    public override void ReportSuppressions(SuppressionAnalysisContext context)
    {
        var networkAttribute = context.Compilation.GetTypeByMetadataName(WellKnownNames.NetworkAttribute);
        if (networkAttribute is null) return;
        foreach (var diagnostic in context.ReportedDiagnostics)
        {
            if (!ById.TryGetValue(diagnostic.Id, out var descriptor) || diagnostic.Location.SourceTree is not { } tree) continue;
            var model = context.GetSemanticModel(tree);
            var node = tree.GetRoot(context.CancellationToken).FindNode(diagnostic.Location.SourceSpan);
            var symbol = model.GetDeclaredSymbol(node, context.CancellationToken);
            if (symbol is IFieldSymbol field && IsLayerField(field, networkAttribute))
                context.ReportSuppression(Suppression.Create(descriptor, diagnostic));
        }
    }

    private static bool IsLayerField(IFieldSymbol field, INamedTypeSymbol networkAttribute) =>
        field.ContainingType.GetAttributes().Any(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, networkAttribute))
        && field.GetAttributes().Any(DeclarationParser.IsLayerAttribute);
}
