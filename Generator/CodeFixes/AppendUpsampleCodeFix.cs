using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using EMANet.Engine;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Formatting;

namespace EMANet.Generator.CodeFixes;

/// <summary>
/// EMA0015 (the network's output is not at the input size): declares
/// <c>[Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;</c> right after the layer that is the
/// network's output (the diagnostic points at that layer's attribute), so that the resize becomes the output. Right after,
/// not at the end of the class: auxiliary heads may follow the main output, and they must stay out of the inference path.
/// Not offered when that layer is an [Upsample] itself (a second resize would hide a wrong Scale or SizeOf: fix that one),
/// nor where the runtime's types cannot be found.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(AppendUpsampleCodeFix)), Shared]
public sealed class AppendUpsampleCodeFix : CodeFixProvider
{
    public const string EquivalenceKey = DiagnosticIds.OutputSizeMismatch + ".AppendUpsample";

    private const string UpsampleAttribute = "EMANet.UpsampleAttribute";
    private const string BilinearUpsample = "EMANet.Runtime.Blocks.BilinearUpsample";

    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.OutputSizeMismatch);

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null || model is null) return;
        var attributeType = model.Compilation.GetTypeByMetadataName(UpsampleAttribute);
        var moduleType = model.Compilation.GetTypeByMetadataName(BilinearUpsample);
        if (attributeType is null || moduleType is null) return;
        foreach (var diagnostic in context.Diagnostics)
        {
            var node = root.FindNode(diagnostic.Location.SourceSpan);
            var field = node.AncestorsAndSelf().OfType<FieldDeclarationSyntax>().FirstOrDefault();
            if (field?.Parent is not TypeDeclarationSyntax type) continue;
            var variable = field.Declaration.Variables.LastOrDefault();
            if (variable is null || model.GetDeclaredSymbol(variable, context.CancellationToken) is not IFieldSymbol output) continue;
            if (output.GetAttributes().Any(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, attributeType))) continue;
            var name = FreeName(output.ContainingType, "upsample");
            context.RegisterCodeFix(
                CodeAction.Create($"Add [Upsample(SizeOf = \"input\")] {name} after '{output.Name}'",
                    ct => Task.FromResult(context.Document.WithSyntaxRoot(
                        root.ReplaceNode(type, type.InsertNodesAfter(field, new[] { UpsampleField(field, model, attributeType, moduleType, name) })))),
                    EquivalenceKey),
                diagnostic);
        }
    }

    /// <summary><paramref name="stem"/>, else stem2, stem3, ...: a name no member of the class (any part) has.</summary>
    private static string FreeName(INamedTypeSymbol type, string stem)
    {
        var taken = type.GetMembers().Select(m => m.Name).ToImmutableHashSet();
        var name = stem;
        for (int i = 2; taken.Contains(name); i++) name = stem + i;
        return name;
    }

    /// <summary>The new field, in the names that bind where it goes (with the usings of the file), indented as <paramref name="after"/>.</summary>
    private static FieldDeclarationSyntax UpsampleField(FieldDeclarationSyntax after, SemanticModel model, INamedTypeSymbol attributeType, INamedTypeSymbol moduleType, string name)
    {
        int position = after.SpanStart;
        var attributeName = attributeType.ToMinimalDisplayString(model, position);
        if (attributeName.EndsWith("Attribute", System.StringComparison.Ordinal)) attributeName = attributeName.Substring(0, attributeName.Length - "Attribute".Length);
        var text = $"[{attributeName}(SizeOf = \"input\")] private readonly {moduleType.ToMinimalDisplayString(model, position)} {name};";
        var field = (FieldDeclarationSyntax)SyntaxFactory.ParseMemberDeclaration(text)!;
        var indentation = after.GetLeadingTrivia().Reverse().TakeWhile(t => t.IsKind(SyntaxKind.WhitespaceTrivia));
        return field
            .WithLeadingTrivia(indentation)
            .WithTrailingTrivia(after.GetTrailingTrivia())
            .WithAdditionalAnnotations(Formatter.Annotation);
    }
}
