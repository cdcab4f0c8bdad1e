extern alias GeneratorAssembly;

using System.Collections;
using System.Reflection;
using GeneratorAssembly::EMANet.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace EMANet.Tests.Generator;

/// <summary>
/// The pipeline caches: re-running on the same compilation, or after an unrelated edit, leaves
/// every tracked step Cached or Unchanged; and no step output holds a symbol, syntax node,
/// compilation or semantic model (which would defeat caching and keep compilations alive).
/// </summary>
public class IncrementalityTests
{
    private static readonly string[] TrackedSteps = { TrackingNames.Declarations, TrackingNames.Sources, TrackingNames.Catalog };

    private static CSharpCompilation TwoNetworks() =>
        GeneratorHarness.Compile(SnapshotTests.TinyEmaNet, ValidDeclarationTests.DecoderNetwork);

    private static IEnumerable<(string Step, IncrementalStepRunReason Reason, object Value)> Outputs(GeneratorDriverRunResult result)
    {
        var generator = result.Results.Single();
        foreach (var name in TrackedSteps)
        {
            Assert.True(generator.TrackedSteps.ContainsKey(name), $"step '{name}' is not tracked; tracked: {string.Join(", ", generator.TrackedSteps.Keys)}");
            foreach (var step in generator.TrackedSteps[name])
                foreach (var (value, reason) in step.Outputs)
                    yield return (name, reason, value);
        }
    }

    private static void AssertAllCached(GeneratorDriverRunResult result)
    {
        var outputs = Outputs(result).ToArray();
        Assert.NotEmpty(outputs);
        foreach (var name in TrackedSteps)
            Assert.Contains(outputs, o => o.Step == name);
        Assert.All(outputs, o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
            $"step '{o.Step}' output {o.Value} was {o.Reason}"));
        Assert.All(result.Results.Single().TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs),
            o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"source output was {o.Reason}"));
    }

    [Fact]
    public void FirstRun_ProducesNewOutputs()
    {
        var driver = GeneratorHarness.CreateDriver().RunGenerators(TwoNetworks());
        var outputs = Outputs(driver.GetRunResult()).ToArray();
        Assert.Equal(2, outputs.Count(o => o.Step == TrackingNames.Declarations));
        Assert.Equal(2, outputs.Count(o => o.Step == TrackingNames.Sources));
        Assert.Single(outputs, o => o.Step == TrackingNames.Catalog);
        Assert.All(outputs, o => Assert.Equal(IncrementalStepRunReason.New, o.Reason));
    }

    [Fact]
    public void SameCompilation_EveryStepIsCached()
    {
        var compilation = TwoNetworks();
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        driver = driver.RunGenerators(compilation);
        AssertAllCached(driver.GetRunResult());
    }

    [Fact]
    public void UnrelatedEdit_EveryStepIsCachedOrUnchanged()
    {
        var compilation = TwoNetworks();
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        var edited = compilation.AddSyntaxTrees(GeneratorHarness.Parse("namespace T; public class Unrelated { public int Value { get; set; } }", "Unrelated.cs"));
        driver = driver.RunGenerators(edited);
        AssertAllCached(driver.GetRunResult());
        // A second unrelated edit, this time to a file that declares a network (outside the class).
        var tree = edited.SyntaxTrees.First(t => t.FilePath == "Source1.cs");
        var text = tree.GetText();
        var changed = edited.ReplaceSyntaxTree(tree, tree.WithChangedText(text.WithChanges(new Microsoft.CodeAnalysis.Text.TextChange(
            new Microsoft.CodeAnalysis.Text.TextSpan(text.Length, 0), "\npublic static class Helper { public static int Two => 2; }\n"))));
        driver = driver.RunGenerators(changed);
        AssertAllCached(driver.GetRunResult());
    }

    [Fact]
    public void EditingOneNetwork_RegeneratesThatNetworkOnly()
    {
        // The check above could pass vacuously if nothing were ever recomputed; a real edit must show up.
        var compilation = TwoNetworks();
        var driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        var tree = compilation.SyntaxTrees.First(t => t.FilePath == "Source0.cs");
        var edited = compilation.ReplaceSyntaxTree(tree, GeneratorHarness.Parse(tree.ToString().Replace("Bases = 16", "Bases = 32"), "Source0.cs"));
        var result = driver.RunGenerators(edited).GetRunResult();
        var sources = Outputs(result).Where(o => o.Step == TrackingNames.Sources).ToArray();
        Assert.Single(sources, o => o.Reason == IncrementalStepRunReason.Modified);
        Assert.Single(sources, o => o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged);
        // Same names: the catalogue is not rewritten.
        Assert.All(Outputs(result).Where(o => o.Step == TrackingNames.Catalog),
            o => Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, o.Reason.ToString()));
    }

    [Fact]
    public void NoStepOutput_HoldsSymbolsSyntaxOrCompilations()
    {
        var compilation = GeneratorHarness.Compile(SnapshotTests.TinyEmaNet, ValidDeclarationTests.DecoderNetwork, ValidDeclarationTests.PlainNetwork,
            """
            namespace T;
            [SegmentationNetwork("broken")]
            public partial class Broken
            {
                [Conv(8, 4)] private readonly ConvBlock a;
            }
            """);
        var result = GeneratorHarness.CreateDriver().RunGenerators(compilation).GetRunResult();
        var outputs = Outputs(result).ToArray();
        Assert.Equal(4, outputs.Count(o => o.Step == TrackingNames.Declarations));
        foreach (var (step, _, value) in outputs)
        {
            var path = ForbiddenObjectFinder.Find(value);
            Assert.True(path is null, $"step '{step}' output holds {path}");
        }
    }

    [Fact]
    public void ForbiddenObjectFinder_FindsWhatItLooksFor()
    {
        // The walker itself must see through records, arrays and private fields.
        var tree = GeneratorHarness.Parse("class C { }");
        var compilation = GeneratorHarness.Compile();
        Assert.NotNull(ForbiddenObjectFinder.Find(tree.GetRoot()));
        Assert.NotNull(ForbiddenObjectFinder.Find(new object[] { 1, new[] { tree.GetRoot().GetLocation() } }));
        Assert.NotNull(ForbiddenObjectFinder.Find(Tuple.Create("x", (object)compilation)));
        Assert.NotNull(ForbiddenObjectFinder.Find(new KeyValuePair<string, object>("k", compilation.GlobalNamespace)));
        var withTree = GeneratorHarness.Compile("class D { }");
        Assert.NotNull(ForbiddenObjectFinder.Find(new Holder(withTree.GetSemanticModel(withTree.SyntaxTrees[0]))));
        Assert.Null(ForbiddenObjectFinder.Find(new object[] { "text", 1, 2.0, new Dictionary<string, int> { ["a"] = 1 } }));
    }

    private sealed class Holder(object inner)
    {
        private readonly object _inner = inner;

        public override string ToString() => _inner.ToString()!;
    }
}

/// <summary>Walks an object graph through fields and enumerables, looking for Roslyn objects that must not be cached.</summary>
internal static class ForbiddenObjectFinder
{
    private static readonly Type[] Forbidden =
    {
        typeof(ISymbol), typeof(SyntaxNode), typeof(SyntaxTree), typeof(Compilation), typeof(SemanticModel), typeof(Location), typeof(AttributeData),
    };

    /// <summary>A description of the path to the first forbidden object, or null.</summary>
    public static string? Find(object? root)
    {
        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
        return Walk(root, "output", seen, 0);
    }

    private static string? Walk(object? value, string path, HashSet<object> seen, int depth)
    {
        if (value is null || depth > 64) return null;
        var type = value.GetType();
        if (Forbidden.Any(f => f.IsAssignableFrom(type))) return $"{path}: {type.FullName}";
        if (type.IsPrimitive || type.IsEnum || value is string or decimal or Type || type.IsPointer) return null;
        if (!type.IsValueType && !seen.Add(value)) return null;
        if (value is IEnumerable enumerable)
        {
            int i = 0;
            foreach (var item in enumerable)
                if (Walk(item, $"{path}[{i++}]", seen, depth + 1) is { } found) return found;
        }
        for (var t = type; t != null && t != typeof(object); t = t.BaseType)
            foreach (var field in t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            {
                if (field.FieldType.IsPointer) continue;
                if (Walk(field.GetValue(value), $"{path}.{field.Name}", seen, depth + 1) is { } found) return found;
            }
        return null;
    }
}
