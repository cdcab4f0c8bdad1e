using System.Globalization;
using System.Text;
using Microsoft.CodeAnalysis;
using Xunit.Abstractions;

namespace EMANet.Tests.Generator;

/// <summary>
/// Hundreds of random declarations, sane and absurd (fixed seed): the generator and the analyzer
/// never throw, and for every network either an EMA error is reported (and nothing is generated)
/// or its generated code is emitted and compiles without errors.
/// </summary>
public class RandomDeclarationTests(ITestOutputHelper output)
{
    private const int Seed = 20190926;
    private const int Cases = 256;
    private const int CasesPerCompilation = 16;

    [Fact]
    public void RandomDeclarations_NeverCrash_AndEitherReportAnErrorOrCompile()
    {
        var random = new Random(Seed);
        var sources = Enumerable.Range(0, Cases).Select(i => new DeclarationWriter(random, i).Write()).ToArray();
        int valid = 0, warned = 0;
        var failures = new List<string>();
        var errorIds = new SortedDictionary<string, int>(StringComparer.Ordinal);
        for (int batch = 0; batch < Cases; batch += CasesPerCompilation)
        {
            var indices = Enumerable.Range(batch, Math.Min(CasesPerCompilation, Cases - batch)).ToArray();
            var compilation = GeneratorHarness.Compile(indices.Select(i => GeneratorHarness.Parse(GeneratorHarness.Usings + sources[i], $"Case{i}.cs")));
            var run = GeneratorHarness.Run(compilation, analyzeOutput: false);
            if (Crashed(run) is { } crash)
            {
                // Name the declaration that crashes, not just the batch.
                var culprit = indices.FirstOrDefault(i => Crashed(GeneratorHarness.Run(GeneratorHarness.Compile(new[] {
                    GeneratorHarness.Parse(GeneratorHarness.Usings + sources[i], $"Case{i}.cs") }), compileOutput: false, analyzeOutput: false)) != null, -1);
                Assert.Fail($"{crash}\n{(culprit >= 0 ? $"case {culprit}:\n{sources[culprit]}" : "batch:\n" + string.Join("\n\n", indices.Select(i => sources[i])))}");
            }
            // Errors nobody can attribute to a case (the catalogue, or outside any file) fail the whole batch.
            var unattributed = run.OutputErrors.Where(d => CaseOf(d) is null).ToArray();
            Assert.True(unattributed.Length == 0, "errors outside any case:\n" + GeneratorRun.Describe(unattributed) + "\n" + string.Join("\n\n", indices.Select(i => sources[i])));
            foreach (var i in indices)
            {
                var ema = run.Ema.Where(d => d.Location.SourceTree?.FilePath == $"Case{i}.cs").ToArray();
                // EMA0018 (two cases drew one network name) is about the assembly, not the declaration: each network is still
                // generated, and the build fails on the error itself.
                var errors = ema.Where(d => d.Severity == DiagnosticSeverity.Error && d.Id != EMANet.Engine.DiagnosticIds.DuplicateNetworkName).ToArray();
                bool generated = run.HintNames.Contains($"R.Case{i}.g.cs");
                var compileErrors = run.OutputErrors.Where(d => CaseOf(d) == i).ToArray();
                foreach (var id in errors.Select(e => e.Id).Distinct()) errorIds[id] = errorIds.GetValueOrDefault(id) + 1;
                if (errors.Length == 0) valid++;
                if (errors.Length == 0 && ema.Length > 0) warned++;
                string? problem =
                    errors.Length > 0 && generated ? "the analyzer reports errors but the generator emitted code" :
                    errors.Length == 0 && !generated ? "no error was reported but nothing was generated" :
                    errors.Length == 0 && compileErrors.Length > 0 ? "no error was reported but the generated code does not compile" :
                    ema.Any(d => !d.Location.IsInSource) ? "a diagnostic has no source location" :
                    null;
                if (problem != null)
                    failures.Add($"case {i}: {problem}\n{GeneratorRun.Describe(ema.Concat(compileErrors))}\n{sources[i]}");
            }
        }
        output.WriteLine($"{Cases} cases: {valid} without errors ({warned} of them with warnings); errors by id: {string.Join(", ", errorIds.Select(e => e.Key + " x" + e.Value))}");
        Assert.True(failures.Count == 0, $"{failures.Count} failing cases; the first ones:\n\n" + string.Join("\n\n", failures.Take(3)));
        // The distribution must exercise both outcomes, or the test proves little.
        Assert.True(valid >= Cases / 5, $"only {valid} of {Cases} random declarations were valid");
        Assert.True(errorIds.Count >= 12, "few diagnostic ids were exercised: " + string.Join(", ", errorIds.Keys));
    }

    /// <summary>What went wrong if the generator or the analyzer threw; null if neither did.</summary>
    private static string? Crashed(GeneratorRun run)
    {
        try
        {
            run.AssertNoCrash();
            return null;
        }
        catch (Exception e)
        {
            return e.Message;
        }
    }

    private static int? CaseOf(Diagnostic d)
    {
        var path = d.Location.SourceTree?.FilePath;
        if (path is null) return null;
        var file = Path.GetFileName(path);
        foreach (var prefix in new[] { "R.Case", "Case" })
            if (file.StartsWith(prefix, StringComparison.Ordinal))
            {
                var digits = new string(file.Substring(prefix.Length).TakeWhile(char.IsDigit).ToArray());
                if (int.TryParse(digits, out var i)) return i;
            }
        return null;
    }

    /// <summary>Writes one random network declaration: well-typed C#, arbitrary values.</summary>
    private sealed class DeclarationWriter(Random random, int index)
    {
        /// <summary>Field names: ordinary ones, and valid ones that could clash with what the generator writes.</summary>
        private static readonly string[] Names =
        {
            "a", "b", "c", "d", "e", "backbone", "head", "fc0", "emau", "classifier", "upsample", "low_level", "aux",
            "@class", "@var", "value", "_", "disposeScope", "auxiliaryAtInput", "backbone_features", "backbone_layer1", "x_features", "torch",
        };

        /// <summary>Names a layer cannot have (the network input, members the generator adds).</summary>
        private static readonly string[] ReservedNames = { "input", "Flops", "forward", "Classes", "Descriptor", "ForwardTraining" };

        private static readonly string[] Kinds =
        {
            "ResNet", "Conv", "ConvBnRelu", "Classifier", "BatchNorm", "ReLU", "Dropout", "MaxPool", "AvgPool", "GlobalAvgPool",
            "Upsample", "Concat", "Add", "EmaUnit", "Aspp",
        };

        /// <summary>Sane cases' middle layers: kinds that keep the channels and sizes consistent more often than not.</summary>
        private static readonly string[] SaneKinds = { "ConvBnRelu", "Conv", "EmaUnit", "Aspp", "BatchNorm", "ReLU", "Dropout", "MaxPool", "Add", "Concat" };

        private static readonly string[] TemplateKinds = { "ConvBnRelu", "Conv", "EmaUnit", "Aspp", "BatchNorm", "ReLU", "Dropout" };

        private static readonly Dictionary<string, string> TypeOf = new()
        {
            ["ResNet"] = "ResNet", ["Conv"] = "ConvBlock", ["ConvBnRelu"] = "ConvBlock", ["Classifier"] = "Conv2d", ["BatchNorm"] = "BatchNorm2d",
            ["ReLU"] = "ReLU", ["Dropout"] = "Dropout2d", ["MaxPool"] = "MaxPool2d", ["AvgPool"] = "AvgPool2d", ["GlobalAvgPool"] = "AdaptiveAvgPool2d",
            ["Upsample"] = "BilinearUpsample", ["Concat"] = "Concatenate", ["Add"] = "ResidualAdd", ["EmaUnit"] = "EmaUnit", ["Aspp"] = "Aspp",
        };

        private static readonly string[] OtherTypes = { "ConvBlock", "Conv2d", "EmaUnit", "ResNet", "int", "string", "object", "ConvBlock?", "Conv2d?" };

        private static readonly string[] NetworkNames =
        {
            "", "net", "emanet-random", "quote\"d", "back\\slash", "line\nbreak", "tab\there", "line\u2028separator", "next\u0085line",
            "<xml & co>", "ünïcødé", "nul\0char", "*/ /* //",
        };

        private bool _wild;

        /// <summary>The usual shape: backbone, layers that keep the shape consistent, classifier, upsample; mostly valid.</summary>
        private bool _template;
        private readonly List<string> _declared = new();

        public string Write()
        {
            _wild = random.NextDouble() < 0.4;
            _template = !_wild && Chance(0.4);
            var sb = new StringBuilder();
            sb.Append("namespace R;\n");
            var args = new List<string> { Literal(Pick(NetworkNames)) };
            if (Chance(0.3)) args.Add("Classes = " + Int(1, 21, 19, 2, 0, -1, 1000, int.MaxValue, int.MinValue));
            if (Chance(0.2)) args.Add("InputChannels = " + Int(3, 1, 4, 0, -3, 100000));
            int size = Pick(new[] { 33, 65, 97, 129, 64, 48 });
            if (Chance(_wild ? 0.8 : 0.95)) args.Add("InputHeight = " + Int(size, size, size, 1, 2, 0, -5, 500, 7, int.MaxValue));
            if (Chance(_wild ? 0.8 : 0.95)) args.Add("InputWidth = " + Int(size, size, size, 1, 2, 0, -5, 500, 7, int.MaxValue));
            sb.Append($"[SegmentationNetwork({string.Join(", ", args)})]\n");
            sb.Append($"public partial class Case{index}\n{{\n");
            int layers = _wild ? random.Next(0, 9) : random.Next(2, 8);
            var names = Names.OrderBy(_ => random.Next()).Take(layers).ToList();
            if (_wild && layers > 0 && Chance(0.15)) names[random.Next(layers)] = Pick(ReservedNames);
            // Sane cases mostly follow the usual shape: backbone, head, classifier, upsample.
            for (int l = 0; l < layers; l++)
            {
                string name = names[l];
                string kind = !_wild && l == 0 && (_template || Chance(0.6)) ? "ResNet"
                    : !_wild && l == layers - 1 && (_template || Chance(0.9)) ? "Upsample"
                    : !_wild && l == layers - 2 && (_template || Chance(0.9)) ? "Classifier"
                    : Pick(_wild ? Kinds : _template ? TemplateKinds : SaneKinds);
                string type = !_template && Chance(_wild ? 0.15 : 0.02) ? Pick(OtherTypes) : TypeOf[kind];
                string attribute = Layer(kind, l == layers - 1);
                sb.Append($"    [{attribute}] private readonly {type} {name};\n");
                _declared.Add(name.TrimStart('@'));
            }
            sb.Append("}\n");
            return sb.ToString();
        }

        private string Layer(string kind, bool last)
        {
            var args = new List<string>();
            switch (kind)
            {
                case "ResNet":
                    args.Add(Int(18, 18, 18, 34, 50, 0, -1, 42, int.MaxValue));
                    if (Chance(0.3)) args.Add("Stem = " + Pick(new[] { "ResNetStem.Deep", "ResNetStem.TorchVision", "(ResNetStem)5", "(ResNetStem)(-1)" }, sane: 2));
                    if (Chance(0.6)) args.Add("OutputStride = " + Int(8, 16, 32, 12, 0, -8, 1, int.MaxValue));
                    args.Add("WidthMultiplier = " + Double(0.25, 0.125, 0.25, 0, -1, double.NaN, double.PositiveInfinity, 1e-300, 1e300, 65));
                    if (Chance(0.2)) args.Add("MultiGrid = " + Ints(1, 2, 4, 0, -3, 65, int.MaxValue));
                    break;
                case "Conv":
                case "ConvBnRelu":
                    args.Add(Int(8, 16, 32, 64, 0, -4, int.MaxValue));
                    if (Chance(0.8)) args.Add(Int(3, 1, 3, 5, 4, 0, -1, 2, int.MaxValue));
                    if (Chance(0.25)) args.Add("Stride = " + Int(1, 2, 1, 0, -2, 1000, int.MaxValue));
                    if (Chance(0.2)) args.Add("Dilation = " + Int(1, 2, 4, 0, -1, int.MaxValue));
                    if (Chance(0.2)) args.Add("Padding = " + Int(-1, 1, 2, 0, -2, 100, int.MaxValue, int.MinValue));
                    if (Chance(0.15)) args.Add("Groups = " + Int(1, 2, 4, 0, -1, 3, int.MaxValue));
                    if (Chance(0.15)) args.Add("Bias = " + Bool());
                    if (Chance(0.15)) args.Add("Norm = " + Bool());
                    if (Chance(0.15)) args.Add("Relu = " + Bool());
                    if (Chance(0.2)) args.Add("Dropout = " + Double(0, 0.1, 0.5, 1, -0.1, double.NaN, double.NegativeInfinity));
                    break;
                case "Classifier":
                    if (Chance(0.15)) args.Add("Auxiliary = " + (Chance(_wild ? 0.5 : 0.1) ? "true" : "false"));
                    break;
                case "Dropout":
                    args.Add(Double(0.1, 0.5, 0, 1, -1, double.NaN, 2));
                    break;
                case "MaxPool":
                case "AvgPool":
                    args.Add(Int(3, 3, 1, 2, 0, -1, 9, int.MaxValue));
                    args.Add(Int(2, 1, 2, 0, -2, 1000));
                    if (Chance(0.25)) args.Add("Padding = " + Int(-1, 1, 0, 3, -3, int.MaxValue));
                    break;
                case "Upsample":
                    if (last && _template) args.Add("SizeOf = \"input\"");
                    else if (last ? Chance(0.85) : Chance(0.5)) args.Add("SizeOf = " + Literal(Reference(last ? 0.9 : 0.3)));
                    else args.Add("Scale = " + Double(2, 4, 8, 0.5, 0, -1, double.NaN, double.PositiveInfinity, 1e-9, 2000));
                    if (Chance(0.2)) args.Add("AlignCorners = " + Bool());
                    break;
                case "Concat":
                case "Add":
                    int count = _wild ? random.Next(0, 4) : random.Next(2, 3);
                    for (int i = 0; i < count; i++) args.Add(Literal(Reference(0.1)));
                    break;
                case "EmaUnit":
                    if (Chance(0.5)) args.Add("Bases = " + Int(16, 8, 64, 0, -1, 5000, int.MaxValue));
                    if (Chance(0.4)) args.Add("Iterations = " + Int(3, 1, 2, 0, 100, -3));
                    if (Chance(0.4)) args.Add("Momentum = " + Double(0.9, 0.5, 0, 1, 2, -0.1, double.NaN));
                    if (Chance(0.2)) args.Add("Renormalize = " + Bool());
                    break;
                case "Aspp":
                    if (Chance(0.7)) args.Add("OutChannels = " + Int(16, 32, 8, 0, -1, int.MaxValue));
                    if (Chance(0.5)) args.Add("Rates = " + Ints(6, 12, 18, 0, -6, int.MaxValue));
                    if (Chance(0.2)) args.Add("ImagePooling = " + Bool());
                    if (Chance(0.2)) args.Add("Dropout = " + Double(0.1, 0, 0.5, 1, -1, double.NaN));
                    break;
            }
            if (kind is not ("Concat" or "Add") && !_template && Chance(_wild ? 0.3 : 0.1))
                args.Add("From = " + Literal(Reference(0.5)));
            return args.Count == 0 ? kind : $"{kind}({string.Join(", ", args)})";
        }

        /// <summary>A layer reference: mostly an earlier layer (or a backbone stage), sometimes absurd.</summary>
        private string Reference(double inputChance)
        {
            if (Chance(inputChance)) return "input";
            if (_declared.Count > 0 && Chance(_wild ? 0.5 : 0.9))
            {
                var earlier = _declared[random.Next(_declared.Count)];
                return Chance(0.2) ? earlier + "." + Pick(new[] { "stem", "layer1", "layer2", "layer3", "layer4", "layer9" }, sane: 5) : earlier;
            }
            return Pick(new[] { "", "nope", "a", "b", "head", "backbone.layer1", "x.y", "input.layer1", ".", "\"", "\n" });
        }

        private bool Chance(double p) => random.NextDouble() < p;

        private T Pick<T>(T[] values, int? sane = null) => values[random.Next(_wild || sane is null ? values.Length : sane.Value)];

        private string Bool() => random.Next(2) == 0 ? "true" : "false";

        /// <summary>The first three values are sane; wild cases draw from all.</summary>
        private string Int(params int[] values) => IntLiteral(values[random.Next(_wild ? values.Length : Math.Min(3, values.Length))]);

        private string Double(params double[] values) => DoubleLiteral(values[random.Next(_wild ? values.Length : Math.Min(3, values.Length))]);

        private string Ints(params int[] values)
        {
            int count = _wild ? random.Next(0, 5) : random.Next(1, 4);
            var chosen = Enumerable.Range(0, count).Select(_ => values[random.Next(_wild ? values.Length : Math.Min(3, values.Length))]);
            return "new int[] { " + string.Join(", ", chosen.Select(IntLiteral)) + " }";
        }

        private static string IntLiteral(int value) =>
            value == int.MinValue ? "int.MinValue" : value == int.MaxValue ? "int.MaxValue" : value.ToString(CultureInfo.InvariantCulture);

        private static string DoubleLiteral(double value) =>
            double.IsNaN(value) ? "double.NaN"
            : double.IsPositiveInfinity(value) ? "double.PositiveInfinity"
            : double.IsNegativeInfinity(value) ? "double.NegativeInfinity"
            : value.ToString("R", CultureInfo.InvariantCulture);

        private static string Literal(string value)
        {
            var sb = new StringBuilder("\"");
            foreach (char c in value)
                sb.Append(c switch
                {
                    '"' => "\\\"",
                    '\\' => "\\\\",
                    _ when char.IsControl(c) || c is '\u2028' or '\u2029' => $"\\u{(int)c:x4}",
                    _ => c.ToString(),
                });
            return sb.Append('"').ToString();
        }
    }
}
