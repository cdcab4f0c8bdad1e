using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading.Tasks;
using EMANet.Engine;
using EMANet.Generator.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace EMANet.Generator.CodeFixes;

/// <summary>
/// EMA0002 (field type does not fit its layer): changes the field's type to the one its attribute needs (the analyzer
/// names it: the project's type of the same simple name, else the layer's first allowed type), written as it binds at the
/// field (simple name where the usings allow) and keeping a <c>?</c>. Not offered when that type is not in the compilation.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(FieldTypeCodeFix)), Shared]
public sealed class FieldTypeCodeFix : CodeFixProvider
{
    public const string EquivalenceKey = DiagnosticIds.MemberTypeMismatch + ".ChangeFieldType";

    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.MemberTypeMismatch);

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        var model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null || model is null) return;
        foreach (var diagnostic in context.Diagnostics)
        {
            if (!diagnostic.Properties.TryGetValue(ParseProblem.ExpectedTypeKey, out var expectedName) || expectedName is null) continue;
            if (model.Compilation.GetTypeByMetadataName(expectedName) is not { } expected) continue;
            var node = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true);
            var declaration = node.AncestorsAndSelf().OfType<VariableDeclarationSyntax>().FirstOrDefault();
            if (declaration?.Parent is not FieldDeclarationSyntax) continue;
            var type = declaration.Type;
            var written = expected.ToMinimalDisplayString(model, type.SpanStart);
            TypeSyntax replacement = SyntaxFactory.ParseTypeName(written);
            if (type is NullableTypeSyntax) replacement = SyntaxFactory.NullableType(replacement);
            replacement = replacement.WithTriviaFrom(type);
            var fields = string.Join(", ", declaration.Variables.Select(v => v.Identifier.ValueText));
            context.RegisterCodeFix(
                CodeAction.Create($"Declare '{fields}' as {written}",
                    ct => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(type, replacement))),
                    EquivalenceKey),
                diagnostic);
        }
    }
}
