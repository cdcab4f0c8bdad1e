using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading.Tasks;
using EMANet.Engine;
using EMANet.Generator.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace EMANet.Generator.CodeFixes;

/// <summary>
/// EMA0010 (reference to a layer that does not exist) on a <c>From</c>, <c>SizeOf</c> or <c>Inputs</c> string: replaces
/// it with the known output it most likely meant (<see cref="NearestName"/>; the analyzer lists the outputs the layer can
/// read). Not offered when no output is clearly the nearest, or when the reference is not a string literal.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(NearestOutputCodeFix)), Shared]
public sealed class NearestOutputCodeFix : CodeFixProvider
{
    public const string EquivalenceKey = DiagnosticIds.UnknownLayer + ".NearestOutput";

    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create(DiagnosticIds.UnknownLayer);

    public override FixAllProvider GetFixAllProvider() => WellKnownFixAllProviders.BatchFixer;

    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        var root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null) return;
        foreach (var diagnostic in context.Diagnostics)
        {
            if (!diagnostic.Properties.TryGetValue(NetworkDiagnostics.KnownOutputsKey, out var known) || known is null) continue;
            var node = root.FindNode(diagnostic.Location.SourceSpan, getInnermostNodeForTie: true);
            var literal = (node as AttributeArgumentSyntax)?.Expression ?? node as ExpressionSyntax;
            if (literal is not LiteralExpressionSyntax { RawKind: (int)SyntaxKind.StringLiteralExpression } text) continue;
            var nearest = NearestName.Find(text.Token.ValueText, known.Split('\n'));
            if (nearest is null) continue;
            var replacement = SyntaxFactory.LiteralExpression(SyntaxKind.StringLiteralExpression, SyntaxFactory.Literal(nearest)).WithTriviaFrom(text);
            context.RegisterCodeFix(
                CodeAction.Create($"Read '{nearest}' (nearest known output to '{text.Token.ValueText}')",
                    ct => Task.FromResult(context.Document.WithSyntaxRoot(root.ReplaceNode(text, replacement))),
                    EquivalenceKey),
                diagnostic);
        }
    }
}
