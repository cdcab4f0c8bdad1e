extern alias GeneratorAssembly;

using GeneratorAssembly::EMANet.Generator.Diagnostics;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace EMANet.Tests.Generator.CodeFixes;

/// <summary>
/// Runs a code fix against the project's analyzer (<see cref="NetworkDiagnosticsAnalyzer"/>, the one engine that reports
/// the EMA diagnostics): the source's diagnostics must be exactly the marked ones, the fix (one at a time, and FixAll in
/// document, project and solution scope) must give the fixed source, and the fixed source must have no diagnostics left
/// unless listed. A fixed source equal to the source asserts that the fix is not offered.
/// </summary>
internal static class CodeFixVerifier<TFix> where TFix : CodeFixProvider, new()
{
    /// <summary>Sources are prefixed with the usings a Models/ file sees (<see cref="GeneratorHarness.Usings"/>).</summary>
    public static Task VerifyAsync(string source, string fixedSource, params DiagnosticResult[] remaining) =>
        VerifyAsync(new[] { source }, new[] { fixedSource }, remaining);

    public static Task VerifyAsync(string[] sources, string[] fixedSources, params DiagnosticResult[] remaining) =>
        Run(sources.Select(s => GeneratorHarness.Usings + s), fixedSources.Select(s => GeneratorHarness.Usings + s), remaining);

    /// <summary>Sources as given, without usings.</summary>
    public static Task VerifyWithoutUsingsAsync(string source, string fixedSource) => Run(new[] { source }, new[] { fixedSource }, Array.Empty<DiagnosticResult>());

    private static Task Run(IEnumerable<string> sources, IEnumerable<string> fixedSources, DiagnosticResult[] remaining)
    {
        var test = new CSharpCodeFixTest<NetworkDiagnosticsAnalyzer, TFix, DefaultVerifier>
        {
            // No reference-assembly package (that would be a download): the references of GeneratorHarness (this run's
            // platform assemblies, the runtime, TorchSharp).
            ReferenceAssemblies = new ReferenceAssemblies("net10.0"),
        };
        test.TestState.AdditionalReferences.AddRange(GeneratorHarness.References);
        foreach (var (source, i) in sources.Select((s, i) => (s, i)))
            test.TestState.Sources.Add(($"/0/Test{i}.cs", source));
        foreach (var (source, i) in fixedSources.Select((s, i) => (s, i)))
            test.FixedState.Sources.Add(($"/0/Test{i}.cs", source));
        test.FixedState.ExpectedDiagnostics.AddRange(remaining);
        return test.RunAsync();
    }

    /// <summary>That the fix is not offered: the marked diagnostics are reported and no code action changes anything.</summary>
    public static Task VerifyNotOfferedAsync(string source) => VerifyAsync(source, source);
}
