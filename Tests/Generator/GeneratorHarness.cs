extern alias GeneratorAssembly;

using System.Collections.Immutable;
using System.Text;
using GeneratorAssembly::EMANet.Generator;
using GeneratorAssembly::EMANet.Generator.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace EMANet.Tests.Generator;

/// <summary>
/// Compiles test sources against the runtime, runs <see cref="NetworkGenerator"/> (with step
/// tracking) and <see cref="NetworkDiagnosticsAnalyzer"/> over the result, and compiles the output.
/// </summary>
internal static class GeneratorHarness
{
    /// <summary>What a Models/ file sees through its global usings.</summary>
// The aliases pick the project's Conv2d and BatchNorm2d over TorchSharp's (both namespaces imported), as Models/GlobalUsings.cs does.
    public const string Usings = "using EMANet;\nusing EMANet.Runtime.Blocks;\nusing TorchSharp.Modules;\nusing Conv2d = EMANet.Runtime.Blocks.Conv2d;\nusing BatchNorm2d = EMANet.Runtime.Blocks.BatchNorm2d;\n\n";

    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    public static readonly CSharpCompilationOptions CompilationOptions = new(
        OutputKind.DynamicallyLinkedLibrary,
        nullableContextOptions: NullableContextOptions.Enable,
        warningLevel: 9999);

    private static readonly Lazy<ImmutableArray<MetadataReference>> LazyReferences = new(LoadReferences);

    public static ImmutableArray<MetadataReference> References => LazyReferences.Value;

    /// <summary>
    /// The trusted platform assemblies of this test run, the runtime (attributes, blocks, engine) and TorchSharp;
    /// none of the project's other assemblies: the generator's carries a second copy of the engine's public types,
    /// and the models, samples and tests declare networks of their own.
    /// </summary>
    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        var runtime = typeof(SegmentationNetworkAttribute).Assembly;
        var paths = ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Where(p => !Path.GetFileNameWithoutExtension(p).StartsWith("EMANet.", StringComparison.OrdinalIgnoreCase))
            .ToList();
        paths.Add(runtime.Location);
        paths.Add(typeof(TorchSharp.torch).Assembly.Location);
        return paths
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToImmutableArray();
    }

    public static SyntaxTree Parse(string source, string path = "Network.cs") =>
        CSharpSyntaxTree.ParseText(SourceText.From(source, Encoding.UTF8), ParseOptions, path);

    /// <summary>A compilation of <paramref name="sources"/> (each prefixed with <see cref="Usings"/>), named Source0.cs, Source1.cs, ...</summary>
    public static CSharpCompilation Compile(params string[] sources) =>
        Compile(sources.Select((s, i) => Parse(Usings + s, $"Source{i}.cs")));

    /// <summary>
    /// A new compilation of <paramref name="trees"/>. Always created afresh (the metadata references,
    /// and so the referenced assemblies' symbols, are shared): deriving every compilation from one
    /// shared empty compilation breaks ReplaceSyntaxTree once that one's declarations have been built.
    /// </summary>
    public static CSharpCompilation Compile(IEnumerable<SyntaxTree> trees) =>
        CSharpCompilation.Create("GeneratorTests", trees, LazyReferences.Value, CompilationOptions);

    public static GeneratorDriver CreateDriver() =>
        CSharpGeneratorDriver.Create(
            new[] { new NetworkGenerator().AsSourceGenerator() },
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>
    /// Runs the generator, then the analyzer on the generated compilation (as the compiler does; or,
    /// with <paramref name="analyzeOutput"/> false, on the input: the same findings, as the analyzer
    /// reads only the user's declarations, at a fraction of the cost), then the compiler's own diagnostics.
    /// </summary>
    public static GeneratorRun Run(CSharpCompilation compilation, bool compileOutput = true, bool analyzeOutput = true) =>
        Run(CreateDriver(), compilation, compileOutput, analyzeOutput);

    public static GeneratorRun Run(GeneratorDriver driver, CSharpCompilation compilation, bool compileOutput = true, bool analyzeOutput = true)
    {
        driver = driver.RunGeneratorsAndUpdateCompilation(compilation, out var output, out var generatorDiagnostics);
        var result = driver.GetRunResult();
        var exceptions = new List<Exception>();
        var withAnalyzers = (analyzeOutput ? output : compilation).WithAnalyzers(
            ImmutableArray.Create<DiagnosticAnalyzer>(new NetworkDiagnosticsAnalyzer()),
            new CompilationWithAnalyzersOptions(
                new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty),
                onAnalyzerException: (e, _, _) => { lock (exceptions) exceptions.Add(e); },
                concurrentAnalysis: false,
                logAnalyzerExecutionTime: false));
        var analyzerDiagnostics = withAnalyzers.GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();
        var outputDiagnostics = compileOutput ? output.GetDiagnostics() : ImmutableArray<Diagnostic>.Empty;
        return new GeneratorRun(compilation, output, driver, result, generatorDiagnostics, analyzerDiagnostics, outputDiagnostics, exceptions);
    }
}

/// <summary>Everything one generator + analyzer run produced.</summary>
internal sealed record GeneratorRun(
    CSharpCompilation Input,
    Compilation Output,
    GeneratorDriver Driver,
    GeneratorDriverRunResult Result,
    ImmutableArray<Diagnostic> GeneratorDiagnostics,
    ImmutableArray<Diagnostic> AnalyzerDiagnostics,
    ImmutableArray<Diagnostic> OutputDiagnostics,
    IReadOnlyList<Exception> AnalyzerExceptions)
{
    /// <summary>The diagnostics of the project: EMA0001..EMA0018.</summary>
    public IReadOnlyList<Diagnostic> Ema => AnalyzerDiagnostics.Where(d => d.Id.StartsWith("EMA", StringComparison.Ordinal)).ToArray();

    public IReadOnlyList<Diagnostic> EmaErrors => Ema.Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();

    public ImmutableArray<GeneratedSourceResult> Sources => Result.Results.Single().GeneratedSources;

    public IReadOnlyList<string> HintNames => Sources.Select(s => s.HintName).ToArray();

    public string? Source(string hintName) =>
        Sources.Where(s => s.HintName == hintName).Select(s => s.SourceText.ToString()).FirstOrDefault();

    /// <summary>Errors and warnings of the output compilation (user code plus generated code).</summary>
    public IReadOnlyList<Diagnostic> OutputProblems =>
        OutputDiagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).ToArray();

    public IReadOnlyList<Diagnostic> OutputErrors =>
        OutputDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();

    /// <summary>Fails unless the generator ran without throwing and the analyzer without crashing.</summary>
    public GeneratorRun AssertNoCrash()
    {
        var exception = Result.Results.Single().Exception;
        Assert.True(exception is null, "generator threw: " + exception);
        Assert.DoesNotContain(GeneratorDiagnostics, d => d.Id == "CS8785");
        Assert.DoesNotContain(OutputDiagnostics, d => d.Id == "CS8785");
        Assert.True(AnalyzerExceptions.Count == 0, "analyzer threw: " + string.Join("\n", AnalyzerExceptions));
        Assert.DoesNotContain(AnalyzerDiagnostics, d => d.Id == "AD0001");
        return this;
    }

    /// <summary>Fails with every problem listed unless the analyzer found nothing and the output compiles without errors or warnings.</summary>
    public GeneratorRun AssertClean()
    {
        AssertNoCrash();
        Assert.True(Ema.Count == 0, "expected no EMA diagnostics, got:\n" + Describe(Ema));
        Assert.True(OutputProblems.Count == 0, "the output compilation has errors or warnings:\n" + Describe(OutputProblems));
        return this;
    }

    public static string Describe(IEnumerable<Diagnostic> diagnostics) =>
        string.Join("\n", diagnostics.Select(d => $"  {d} [{Under(d)}]"));

    /// <summary>The source text a diagnostic's span covers.</summary>
    public static string Under(Diagnostic d) =>
        d.Location.IsInSource ? d.Location.SourceTree!.GetText().ToString(d.Location.SourceSpan) : "<no source location>";
}
