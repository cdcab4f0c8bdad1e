using EMANet.Engine;
using Microsoft.CodeAnalysis;

namespace EMANet.Tests.Generator;

/// <summary>
/// A layer field named like a member the generated parts or the base class <c>SegmentationNetwork</c> give a network
/// would not compile (or would hide it): the parser refuses it with EMA0012. The names come from the compiled network
/// here, not from a second hand-kept list, so a member the emitter or the base class gains is covered at once.
/// </summary>
public class GeneratedMemberNamesTests
{
    private static string Probe(string field) => $$"""
        namespace T;
        [SegmentationNetwork("probe", InputHeight = 65, InputWidth = 65)]
        public partial class Probe
        {
            [ConvBnRelu(8, 3)] private readonly ConvBlock {{field}};
            [Classifier] private readonly Conv2d classifier;
        }
        """;

    /// <summary>Members of the generated parts and the (non-private) members the base class declares; no constructors or accessors.</summary>
    private static string[] AddedMemberNames()
    {
        var run = GeneratorHarness.Run(GeneratorHarness.Compile(Probe("a"))).AssertClean();
        var type = run.Output.GetTypeByMetadataName("T.Probe")!;
        static bool Named(ISymbol m) =>
            !m.IsImplicitlyDeclared && m is IPropertySymbol or IFieldSymbol or IMethodSymbol { MethodKind: MethodKind.Ordinary };
        var generated = type.GetMembers()
            .Where(m => Named(m) && m.DeclaringSyntaxReferences.All(r => r.SyntaxTree.FilePath.EndsWith(".g.cs", StringComparison.Ordinal)));
        var baseClass = type.BaseType!;
        Assert.Equal("EMANet.Runtime.Networks.SegmentationNetwork", baseClass.ToDisplayString());
        var inherited = baseClass.GetMembers()
            .Where(m => Named(m) && m.DeclaredAccessibility is Accessibility.Public or Accessibility.Protected or Accessibility.ProtectedOrInternal);
        return generated.Concat(inherited).Select(m => m.Name).Distinct().OrderBy(n => n, StringComparer.Ordinal).ToArray();
    }

    [Fact]
    public void Every_added_member_name_is_refused_as_a_layer_name()
    {
        var names = AddedMemberNames();
        Assert.Contains("ForwardLayers", names);
        Assert.Contains("Descriptor", names);
        Assert.Contains("EmaUnits", names);
        foreach (var name in names)
        {
            var run = GeneratorHarness.Run(GeneratorHarness.Compile(Probe(name)), compileOutput: false);
            Assert.True(run.Ema.Any(d => d.Id == DiagnosticIds.DuplicateLayerName && d.GetMessage().Contains($"field '{name}'", StringComparison.Ordinal)),
                $"a layer field named '{name}' is not refused: {GeneratorRun.Describe(run.Ema)}");
        }
    }
}
