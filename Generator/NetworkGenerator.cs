using System.Collections.Immutable;
using System.Linq;
using System.Text;
using EMANet.Generator.Emit;
using EMANet.Generator.Model;
using EMANet.Generator.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace EMANet.Generator;

/// <summary>
/// The pipeline: [SegmentationNetwork] classes -> value-equatable models -> one source per
/// network and one for its declaration data (skipped when the declaration has errors: the analyzer reports those)
/// -> a catalogue.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class NetworkGenerator : IIncrementalGenerator
{
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var models = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                WellKnownNames.NetworkAttribute,
                predicate: static (node, _) => node is ClassDeclarationSyntax,
                transform: static (ctx, ct) => IsFirstAttributedPart(ctx)
                    ? DeclarationParser.Parse((INamedTypeSymbol)ctx.TargetSymbol, ctx.Attributes[0], ct).Model
                    : null)
            .Where(static model => model != null)
            .Select(static (model, _) => model!)
            .WithTrackingName(TrackingNames.Declarations);

        var sources = models
            .Select(static (model, _) => new GeneratedSource(model.FullName, NetworkEmitter.Emit(model)))
            .WithTrackingName(TrackingNames.Sources);

        context.RegisterSourceOutput(sources, static (spc, source) =>
        {
            if (source.Text == null) return;
            spc.AddSource(source.FullName + ".g.cs", SourceText.From(source.Text.Network, Encoding.UTF8));
            spc.AddSource(source.FullName + NetworkEmitter.DeclarationSuffix, SourceText.From(source.Text.Declaration, Encoding.UTF8));
        });

        var catalog = sources
            .Where(static s => s.Text != null)
            .Select(static (s, _) => s.FullName)
            .Collect()
            .Select(static (names, _) => CatalogEmitter.Emit(names.Sort()))
            .WithTrackingName(TrackingNames.Catalog);

        context.RegisterSourceOutput(catalog, static (spc, text) =>
        {
            if (text != null) spc.AddSource("GeneratedNetworks.g.cs", SourceText.From(text, Encoding.UTF8));
        });
    }

    /// <summary>
    /// Whether the attribute at hand is the type's first [SegmentationNetwork]: with the attribute on two
    /// partial parts (which C# reports as CS0579) the pipeline sees the class twice, and one network
    /// must give one source.
    /// </summary>
    private static bool IsFirstAttributedPart(GeneratorAttributeSyntaxContext context)
    {
        // (context.Attributes holds every matching attribute of the parts in the target's file, so compare with the target node.)
        var first = context.TargetSymbol.GetAttributes()
            .FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == WellKnownNames.NetworkAttribute)?.ApplicationSyntaxReference;
        return first == null || (first.SyntaxTree == context.TargetNode.SyntaxTree && context.TargetNode.Span.Contains(first.Span));
    }
}

internal sealed record GeneratedSource(string FullName, EmittedNetwork? Text);
