using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace EMANet.Tests.Generator;

/// <summary>Diagnostics come from an analyzer, so #pragma, .editorconfig severities and compilation options apply.</summary>
public class SuppressionTests
{
    private const string Input500 = """
        namespace T;
        [SegmentationNetwork("input500", InputHeight = 500, InputWidth = 500)]
        public partial class Input500
        {
            [ResNet(18, OutputStride = 8, WidthMultiplier = 0.25)] private readonly ResNet backbone;
            [Classifier] private readonly Conv2d classifier;
            [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
        }
        """;

    private static GeneratorRun Run(CSharpCompilation compilation) => GeneratorHarness.Run(compilation, compileOutput: false).AssertNoCrash();

    private static Diagnostic? Ema0013(GeneratorRun run) => run.AnalyzerDiagnostics.SingleOrDefault(d => d.Id == "EMA0013");

    [Fact]
    public void ByDefault_EMA0013_IsAWarning()
    {
        var run = Run(GeneratorHarness.Compile(Input500));
        Assert.Equal(DiagnosticSeverity.Warning, Ema0013(run)?.Severity);
        Assert.Contains("T.Input500.g.cs", run.HintNames);
    }

    [Fact]
    public void PragmaWarningDisable_SuppressesIt()
    {
        var run = Run(GeneratorHarness.Compile("#pragma warning disable EMA0013\n" + Input500));
        Assert.Null(Ema0013(run));
        Assert.Contains("T.Input500.g.cs", run.HintNames);
    }

    [Fact]
    public void PragmaForAnotherId_OrRestoredBeforeTheAttribute_DoesNot()
    {
        Assert.NotNull(Ema0013(Run(GeneratorHarness.Compile("#pragma warning disable EMA0017\n" + Input500))));
        Assert.NotNull(Ema0013(Run(GeneratorHarness.Compile("#pragma warning disable EMA0013\n#pragma warning restore EMA0013\n" + Input500))));
    }

    [Theory]
    [InlineData(ReportDiagnostic.Error, DiagnosticSeverity.Error)]
    [InlineData(ReportDiagnostic.Info, DiagnosticSeverity.Info)]
    [InlineData(ReportDiagnostic.Suppress, null)]
    public void SpecificDiagnosticOptions_ChangeTheSeverity(ReportDiagnostic report, DiagnosticSeverity? expected)
    {
        var compilation = GeneratorHarness.Compile(Input500);
        compilation = compilation.WithOptions(compilation.Options.WithSpecificDiagnosticOptions(
            ImmutableDictionary<string, ReportDiagnostic>.Empty.Add("EMA0013", report)));
        Assert.Equal(expected, Ema0013(Run(compilation))?.Severity);
    }

    [Theory]
    [InlineData(ReportDiagnostic.Error, DiagnosticSeverity.Error)]
    [InlineData(ReportDiagnostic.Suppress, null)]
    public void EditorConfigSeverity_PerTree_ChangesTheSeverity(ReportDiagnostic report, DiagnosticSeverity? expected)
    {
        // What `dotnet_diagnostic.EMA0013.severity = error` in .editorconfig becomes: a per-tree option.
        var compilation = GeneratorHarness.Compile(Input500);
        compilation = compilation.WithOptions(compilation.Options.WithSyntaxTreeOptionsProvider(new EditorConfigSeverities("Source0.cs", "EMA0013", report)));
        Assert.Equal(expected, Ema0013(Run(compilation))?.Severity);
    }

    [Fact]
    public void EditorConfigSeverity_ForAnotherFile_DoesNotApply()
    {
        var compilation = GeneratorHarness.Compile(Input500);
        compilation = compilation.WithOptions(compilation.Options.WithSyntaxTreeOptionsProvider(new EditorConfigSeverities("Other.cs", "EMA0013", ReportDiagnostic.Error)));
        Assert.Equal(DiagnosticSeverity.Warning, Ema0013(Run(compilation))?.Severity);
    }

    /// <summary>The compiler's view of an .editorconfig section: one file, one id, one severity.</summary>
    private sealed class EditorConfigSeverities(string file, string id, ReportDiagnostic severity) : SyntaxTreeOptionsProvider
    {
        public override GeneratedKind IsGenerated(SyntaxTree tree, CancellationToken cancellationToken) => GeneratedKind.Unknown;

        public override bool TryGetDiagnosticValue(SyntaxTree tree, string diagnosticId, CancellationToken cancellationToken, out ReportDiagnostic result)
        {
            result = severity;
            return tree.FilePath == file && diagnosticId == id;
        }

        public override bool TryGetGlobalDiagnosticValue(string diagnosticId, CancellationToken cancellationToken, out ReportDiagnostic result)
        {
            result = ReportDiagnostic.Default;
            return false;
        }
    }
}
