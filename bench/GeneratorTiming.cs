extern alias GeneratorAssembly;
using System.Collections.Immutable;
using System.Diagnostics;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using NetworkGenerator = GeneratorAssembly::EMANet.Generator.NetworkGenerator;
using NetworkDiagnosticsAnalyzer = GeneratorAssembly::EMANet.Generator.Diagnostics.NetworkDiagnosticsAnalyzer;

namespace EMANet.Bench;

/// <summary>
/// Compile-time cost: the source generator run through <see cref="CSharpGeneratorDriver"/> over every
/// declaration in Models/, as the compiler would (a fresh compilation per run, so nothing is cached
/// between runs), plus the incremental case (an unrelated edit, one declaration edited) and the
/// diagnostics analyzer.
/// </summary>
internal static class GeneratorTiming
{
    public static void Run(Options o, Dictionary<string, object?> r)
    {
        int runs = o.Int("runs", 20);
        string root = o.Get("repo") ?? FindRepositoryRoot();
        var parse = CSharpParseOptions.Default.WithLanguageVersion(LanguageVersion.Latest);
        var files = Directory.EnumerateFiles(Path.Combine(root, "Models"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/") && !f.Contains("/bin/")).OrderBy(f => f, StringComparer.Ordinal).ToArray();
        var trees = files.Select(f => CSharpSyntaxTree.ParseText(File.ReadAllText(f), parse, path: f)).ToList();
        // The SDK's implicit usings (ImplicitUsings=enable), as obj/*.GlobalUsings.g.cs has them.
        trees.Add(CSharpSyntaxTree.ParseText(string.Join("\n", new[] { "System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Net.Http", "System.Threading", "System.Threading.Tasks" }
            .Select(n => $"global using global::{n};")), parse, path: "GlobalUsings.g.cs"));
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => !Path.GetFileName(p).StartsWith("EMANet.Models", StringComparison.Ordinal) && !Path.GetFileName(p).StartsWith("EMANet.Generator", StringComparison.Ordinal))
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToArray();
        var compilationOptions = new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable);
        CSharpCompilation Fresh(IEnumerable<SyntaxTree> t) => CSharpCompilation.Create("EMANet.Models", t, references, compilationOptions);
        var generator = new NetworkGenerator().AsSourceGenerator();
        GeneratorDriver NewDriver() => CSharpGeneratorDriver.Create([generator], parseOptions: parse);

        // Cold: a new driver on a new compilation each time (run 1 also pays the JIT).
        var cold = new List<double>();
        var generatorOnly = new List<double>();
        GeneratorDriverRunResult? last = null;
        Compilation? output = null;
        for (int i = 0; i < runs + 1; i++)
        {
            var compilation = Fresh(trees);
            var sw = Stopwatch.StartNew();
            var driver = NewDriver().RunGeneratorsAndUpdateCompilation(compilation, out output, out _);
            cold.Add(sw.Elapsed.TotalMilliseconds);
            generatorOnly.Add(driver.GetTimingInfo().ElapsedTime.TotalMilliseconds);
            last = driver.GetRunResult();
        }
        var generated = last!.GeneratedTrees;
        int errors = output!.GetDiagnostics().Count(d => d.Severity == DiagnosticSeverity.Error);

        // Incremental: the same driver after an unrelated edit, and after editing one declaration.
        var baseCompilation = Fresh(trees);
        var warmDriver = NewDriver().RunGenerators(baseCompilation);
        var unrelated = new List<double>();
        var oneEdited = new List<double>();
        var r101 = trees.First(t => t.FilePath.EndsWith("EmaNetR101.cs", StringComparison.Ordinal));
        for (int i = 0; i < runs; i++)
        {
            var edited = baseCompilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText($"class Unrelated{i} {{ }}", parse));
            var sw = Stopwatch.StartNew();
            warmDriver = warmDriver.RunGenerators(edited);
            unrelated.Add(sw.Elapsed.TotalMilliseconds);
            var text = r101.GetText().ToString().Replace("Bases = 64", i % 2 == 0 ? "Bases = 32" : "Bases = 64");
            var declEdited = baseCompilation.ReplaceSyntaxTree(r101, CSharpSyntaxTree.ParseText(text, parse, path: r101.FilePath));
            sw.Restart();
            warmDriver = warmDriver.RunGenerators(declEdited);
            oneEdited.Add(sw.Elapsed.TotalMilliseconds);
            baseCompilation = edited;
        }

        // The analyzer (reports the declaration diagnostics while typing); includes binding the declarations.
        var analyzer = new List<double>();
        for (int i = 0; i < Math.Min(runs, 10) + 1; i++)
        {
            var compilation = Fresh(trees);
            var sw = Stopwatch.StartNew();
            compilation.WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new NetworkDiagnosticsAnalyzer())).GetAnalyzerDiagnosticsAsync().GetAwaiter().GetResult();
            analyzer.Add(sw.Elapsed.TotalMilliseconds);
        }

        r["config"] = "generator";
        r["declaration_files"] = files.Select(f => Path.GetRelativePath(root, f)).ToArray();
        r["generated_files"] = generated.Length;
        r["networks"] = generated.Length - 1;   // plus the catalogue
        r["generated_chars"] = generated.Sum(t => t.Length);
        r["generated_compile_errors"] = errors;
        r["runs"] = runs;
        r["cold_first_ms"] = cold[0];
        r["cold_ms"] = cold.Skip(1).ToArray();
        r["cold_median_ms"] = Median(cold.Skip(1));
        r["generator_only_median_ms"] = Median(generatorOnly.Skip(1));
        r["incremental_unrelated_edit_median_ms"] = Median(unrelated);
        r["incremental_one_declaration_edit_median_ms"] = Median(oneEdited);
        r["analyzer_first_ms"] = analyzer[0];
        r["analyzer_median_ms"] = Median(analyzer.Skip(1));
        r["roslyn"] = typeof(CSharpCompilation).Assembly.GetName().Version?.ToString();
    }

    private static double Median(IEnumerable<double> values)
    {
        var s = values.OrderBy(v => v).ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "EMANet.Gen.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("run from inside the repository or pass --repo");
    }
}
