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
/// network (skipped when the declaration has errors: the analyzer reports those) -> a catalogue.
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
                transform: static (ctx, ct) => DeclarationParser.Parse((INamedTypeSymbol)ctx.TargetSymbol, ctx.Attributes[0], ct).Model)
            .WithTrackingName(TrackingNames.Declarations);

        var sources = models
            .Select(static (model, _) => new GeneratedSource(model.FullName, NetworkEmitter.Emit(model)))
            .WithTrackingName(TrackingNames.Sources);

        context.RegisterSourceOutput(sources, static (spc, source) =>
        {
            if (source.Text != null)
                spc.AddSource(source.FullName + ".g.cs", SourceText.From(source.Text, Encoding.UTF8));
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
}

internal sealed record GeneratedSource(string FullName, string? Text);
