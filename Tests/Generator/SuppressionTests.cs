extern alias GeneratorAssembly;

using System.Collections.Immutable;
using GeneratorAssembly::EMANet.Generator.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

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

    /// <summary>A channel mismatch: the network is not generated, so its layer fields are never assigned.</summary>
    private const string ChannelMismatch = """
        namespace T;
        [SegmentationNetwork("mismatch", InputHeight = 65, InputWidth = 65)]
        public partial class Mismatch
        {
            [Conv(8, 3)] private readonly ConvBlock a;
            [Conv(16, 3)] private readonly ConvBlock b;
            [Add("a", "b")] private readonly ResidualAdd sum;
            [Classifier] private readonly Conv2d classifier;
            [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
            private readonly object notALayer;
        }
        """;

    /// <summary>Warnings and errors left after the generator, the analyzer and (optionally) the suppressor, as a build shows them.</summary>
    private static Diagnostic[] BuildDiagnostics(string source, bool withSuppressor)
    {
        var compilation = GeneratorHarness.Compile(source);
        GeneratorHarness.CreateDriver().RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        var analyzers = withSuppressor
            ? ImmutableArray.Create<DiagnosticAnalyzer>(new NetworkDiagnosticsAnalyzer(), new LayerFieldSuppressor())
            : ImmutableArray.Create<DiagnosticAnalyzer>(new NetworkDiagnosticsAnalyzer());
        return output.WithAnalyzers(analyzers).GetAllDiagnosticsAsync().GetAwaiter().GetResult()
            .Where(d => d.Severity >= DiagnosticSeverity.Warning && !d.IsSuppressed)
            .ToArray();
    }

    [Fact]
    public void A_declaration_with_an_error_shows_its_EMA_diagnostic_and_no_field_warnings()
    {
        var noisy = BuildDiagnostics(ChannelMismatch, withSuppressor: false);
        Assert.Contains(noisy, d => d.Id is "CS0169" or "CS8618" or "CS0649");   // what a build showed before the suppressor

        var quiet = BuildDiagnostics(ChannelMismatch, withSuppressor: true);
        Assert.Contains(quiet, d => d.Id == "EMA0004");
        // Only the EMA diagnostic and the warnings about the field that is no layer remain.
        Assert.All(quiet, d => Assert.True(d.Id.StartsWith("EMA", StringComparison.Ordinal) || d.GetMessage().Contains("notALayer"),
            $"{d.Id}: {d.GetMessage()}"));
        Assert.Contains(quiet, d => d.GetMessage().Contains("notALayer"));
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
