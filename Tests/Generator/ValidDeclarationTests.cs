using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;

namespace EMANet.Tests.Generator;

/// <summary>
/// Valid declarations give no diagnostics, and what the generator writes compiles with no errors
/// and no warnings (at the highest warning level, nullable enabled).
/// </summary>
public class ValidDeclarationTests
{
    /// <summary>Every network of Models/, read from the repository.</summary>
    internal static string[] ModelSources([CallerFilePath] string thisFile = "")
    {
        var models = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(thisFile)!, "..", "..", "Models"));
        return Directory.GetFiles(models, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
            .Where(f => Path.GetFileName(f) != "GlobalUsings.cs")
            .OrderBy(f => f, StringComparer.Ordinal)
            .Select(File.ReadAllText)
            .ToArray();
    }

    /// <summary>An EMANet with an auxiliary FCN head on layer3, as the authors train it.</summary>
    internal const string AuxiliaryNetwork = """
        namespace T;
        /// <summary>EMANet with an auxiliary head.</summary>
        [SegmentationNetwork("emanet-aux", Classes = 19, InputHeight = 129, InputWidth = 129)]
        public partial class EmaNetAux
        {
            [ResNet(18, OutputStride = 8, WidthMultiplier = 0.25)] private readonly ResNet backbone;
            [ConvBnRelu(64, 3)] private readonly ConvBlock fc0;
            [EmaUnit(Bases = 16)] private readonly EmaUnit emau;
            [ConvBnRelu(64, 3, Dropout = 0.1)] private readonly ConvBlock fc1;
            [Classifier] private readonly Conv2d fc2;
            [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
            [ConvBnRelu(32, 3, From = "backbone.layer3", Dropout = 0.1)] private readonly ConvBlock aux_head;
            [Classifier(Auxiliary = true)] private readonly Conv2d aux_classifier;
        }
        """;

    /// <summary>A DeepLabV3+-style decoder at CPU size: ASPP, a layer1 skip, upsample, concat, refine.</summary>
    internal const string DecoderNetwork = """
        namespace T;
        [SegmentationNetwork("deeplabv3plus-tiny", InputHeight = 129, InputWidth = 129)]
        public partial class DeepLabV3PlusTiny
        {
            [ResNet(18, Stem = ResNetStem.TorchVision, OutputStride = 16, WidthMultiplier = 0.25)] private readonly ResNet backbone;
            [Aspp(OutChannels = 32, Rates = new[] { 6, 12, 18 }, Dropout = 0.1)] private readonly Aspp aspp;
            [ConvBnRelu(12, 1, From = "backbone.layer1")] private readonly ConvBlock low_level;
            [Upsample(From = "aspp", SizeOf = "low_level")] private readonly BilinearUpsample aspp_up;
            [Concat("aspp_up", "low_level")] private readonly Concatenate decoder_input;
            [ConvBnRelu(32, 3)] private readonly ConvBlock decoder1;
            [ConvBnRelu(32, 3)] private readonly ConvBlock decoder2;
            [Classifier] private readonly Conv2d classifier;
            [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
        }
        """;

    /// <summary>No backbone: every other layer kind, a residual add, pools, a scale resize, a keyword-named field.</summary>
    internal const string PlainNetwork = """
        namespace T.Inner;
        [SegmentationNetwork("plain", Classes = 5, InputChannels = 1, InputHeight = 64, InputWidth = 48)]
        internal partial class Plain
        {
            [Conv(16, 3, Bias = true)] private readonly Conv2d stem;
            [BatchNorm] private readonly BatchNorm2d bn;
            [ReLU] private readonly ReLU relu;
            [MaxPool(3, 2)] private readonly MaxPool2d pool;
            [ConvBnRelu(16, 3, Dilation = 2)] private readonly ConvBlock @class;
            [Add("pool", "class")] private readonly ResidualAdd sum;
            [AvgPool(2, 2, Padding = 0)] private readonly AvgPool2d avg;
            [Conv(32, 3, Groups = 4, Norm = true, Relu = true, Dropout = 0.2)] private readonly ConvBlock grouped;
            [GlobalAvgPool(From = "grouped")] private readonly AdaptiveAvgPool2d gap;
            [Upsample(SizeOf = "grouped", AlignCorners = false)] private readonly BilinearUpsample gap_up;
            [Concat("grouped", "gap_up")] private readonly Concatenate context;
            [Dropout(0.1)] private readonly Dropout2d drop;
            [Classifier] private readonly Conv2d classifier;
            [Upsample(Scale = 4)] private readonly BilinearUpsample upsample;
        }
        """;

    /// <summary>Field names equal to the locals the generator writes (stages, helpers), a read of "backbone.layer4", an aux head.</summary>
    internal const string CollidingNames = """
        namespace T;
        [SegmentationNetwork("colliding", InputHeight = 65, InputWidth = 65)]
        public partial class Colliding
        {
            [ResNet(18, OutputStride = 16, WidthMultiplier = 0.125)] private readonly ResNet backbone;
            [ConvBnRelu(8, 1, From = "backbone.layer1")] private readonly ConvBlock backbone_layer1;
            [ConvBnRelu(8, 1, From = "backbone.layer4")] private readonly ConvBlock backbone_features;
            [Upsample(SizeOf = "backbone_layer1")] private readonly BilinearUpsample disposeScope;
            [Concat("disposeScope", "backbone_layer1")] private readonly Concatenate auxiliaryAtInput;
            [Classifier] private readonly Conv2d input_2;
            [Upsample(SizeOf = "input")] private readonly BilinearUpsample @event;
            [Classifier(From = "backbone.layer3", Auxiliary = true)] private readonly Conv2d aux;
        }
        """;

    [Fact]
    public void FieldsNamedLikeTheGeneratorsLocals_StillCompile()
    {
        var source = GeneratorHarness.Run(GeneratorHarness.Compile(CollidingNames)).AssertClean().Source("T.Colliding.g.cs")!;
        Assert.Contains("using var disposeScope_2 = global::TorchSharp.torch.NewDisposeScope();", source);
        Assert.Contains("var backbone_layer1_2 = backbone_features_2.Layer1;", source);
        Assert.Contains("var backbone_features = this.backbone_features.call(backbone);", source);
        Assert.Contains("var auxiliaryAtInput_2 = global::TorchSharp.torch.nn.functional.interpolate(aux,", source);
        Assert.Contains("var @event = this.@event.forward(input_2, input);", source);
    }

    [Fact]
    public void Two_layer_fields_in_one_declaration_are_two_layers_in_order()
    {
        // One attribute on "ConvBlock a, b" applies to both fields: two layers, a then b.
        var run = GeneratorHarness.Run(GeneratorHarness.Compile("""
            namespace T;
            [SegmentationNetwork("two-in-one", InputHeight = 65, InputWidth = 65)]
            public partial class TwoInOne
            {
                [ConvBnRelu(8, 3)] private readonly ConvBlock a, b;
                [Classifier] private readonly Conv2d classifier;
            }
            """)).AssertClean();
        var source = run.Source("T.TwoInOne.g.cs")!;
        int a = source.IndexOf("var a = this.a.call(input);", StringComparison.Ordinal);
        int b = source.IndexOf("var b = this.b.call(a);", StringComparison.Ordinal);
        Assert.True(a >= 0 && b > a, source);
        Assert.Contains("this.b = new global::EMANet.Runtime.Blocks.ConvBlock(8, 8, 3", source);
    }

    [Fact]
    public void A_network_in_the_global_namespace_compiles_and_is_catalogued()
    {
        var run = GeneratorHarness.Run(GeneratorHarness.Compile("""
            [SegmentationNetwork("global-net", InputHeight = 65, InputWidth = 65)]
            public partial class GlobalNet
            {
                [Conv(8, 3)] private readonly ConvBlock a;
                [Classifier] private readonly Conv2d classifier;
            }
            """)).AssertClean();
        Assert.Contains("GlobalNet.g.cs", run.HintNames);
        Assert.Contains("typeof(global::GlobalNet)", run.Source("GlobalNet.g.cs")!);
        Assert.NotNull(run.Output.GetTypeByMetadataName("GlobalNet")!.GetMembers("forward").SingleOrDefault());
    }

    [Fact]
    public void An_aliased_attribute_name_is_recognised()
    {
        var run = GeneratorHarness.Run(GeneratorHarness.Compile("""
            using Net = EMANet.SegmentationNetworkAttribute;
            using Layer = EMANet.ConvBnReluAttribute;
            namespace T;
            [Net("aliased", InputHeight = 65, InputWidth = 65)]
            public partial class Aliased
            {
                [Layer(8, 3)] private readonly ConvBlock a;
                [Classifier] private readonly Conv2d classifier;
            }
            """)).AssertClean();
        Assert.Contains("var a = this.a.call(input);", run.Source("T.Aliased.g.cs")!);
    }

    [Fact]
    public void The_network_attribute_on_two_parts_of_one_class_is_the_compilers_duplicate_attribute_error()
    {
        // [SegmentationNetwork] allows one use per class: C# itself reports the second part (CS0579); the generator must not crash.
        var run = GeneratorHarness.Run(GeneratorHarness.Compile("""
            namespace T;
            [SegmentationNetwork("twice", InputHeight = 65, InputWidth = 65)]
            public partial class Twice
            {
                [Conv(8, 3)] private readonly ConvBlock a;
                [Classifier] private readonly Conv2d classifier;
            }
            [SegmentationNetwork("twice", InputHeight = 65, InputWidth = 65)]
            public partial class Twice
            {
            }
            """)).AssertNoCrash();
        Assert.Contains(run.OutputErrors, d => d.Id == "CS0579");
    }

    [Fact]
    public void NetworkName_WithLineBreaksQuotesAndMarkup_IsEscaped()
    {
        // The attribute's argument holds escapes; the generator must write a literal with the same value.
        var run = GeneratorHarness.Run(GeneratorHarness.Compile("""
            namespace T;
            [SegmentationNetwork("a \"quoted\" <b>&amp;</b> name\nwith a line break,\u2028a line separator, \u0085 next line, \\ backslash", InputHeight = 65, InputWidth = 65)]
            public partial class Odd
            {
                [Conv(8, 3)] private readonly ConvBlock a;
                [Classifier] private readonly Conv2d classifier;
            }
            """)).AssertClean();
        var constant = (string)run.Output.GetTypeByMetadataName("T.Odd")!.GetMembers("NetworkName").OfType<IFieldSymbol>().Single().ConstantValue!;
        Assert.Equal("a \"quoted\" <b>&amp;</b> name\nwith a line break,\u2028a line separator, \u0085 next line, \\ backslash", constant);
    }

    [Fact]
    public void EveryModel_GivesNoDiagnostics_AndCompilesWithoutWarnings()
    {
        var sources = ModelSources();
        Assert.True(sources.Length >= 11, $"found only {sources.Length} model files");
        var run = GeneratorHarness.Run(GeneratorHarness.Compile(sources)).AssertClean();
        var expected = new[]
        {
            "DeepLabV3PlusR101", "DeepLabV3PlusTiny", "DeepLabV3R101", "DeepLabV3Tiny", "EmaNetR101", "EmaNetR101C256", "EmaNetR101Os16", "EmaNetR152", "EmaNetR152Os16",
            "EmaNetR50", "EmaNetR50Os16", "EmaNetTiny", "EmaNetTinyNoEma", "FcnR101", "FcnTiny",
        };
        Assert.Equal(expected.Select(n => "EMANet.Models." + n + ".g.cs").Append("GeneratedNetworks.g.cs").OrderBy(s => s, StringComparer.Ordinal),
            run.HintNames.OrderBy(s => s, StringComparer.Ordinal));
        // The catalogue lists every network, sorted by full name.
        var catalog = run.Source("GeneratedNetworks.g.cs")!;
        var listed = catalog.Split('\n').Where(l => l.TrimStart().StartsWith("global::", StringComparison.Ordinal)).Select(l => l.Trim()).ToArray();
        Assert.Equal(expected.Select(n => $"global::EMANet.Models.{n}.Descriptor,"), listed);
    }

    [Theory]
    [InlineData(AuxiliaryNetwork, "T.EmaNetAux")]
    [InlineData(DecoderNetwork, "T.DeepLabV3PlusTiny")]
    [InlineData(PlainNetwork, "T.Inner.Plain")]
    public void Declaration_GivesNoDiagnostics_AndCompilesWithoutWarnings(string source, string fullName)
    {
        var run = GeneratorHarness.Run(GeneratorHarness.Compile(source)).AssertClean();
        Assert.Equal(new[] { "GeneratedNetworks.g.cs", fullName + ".g.cs" }, run.HintNames.OrderBy(s => s, StringComparer.Ordinal));
        var type = run.Output.GetTypeByMetadataName(fullName)!;
        Assert.Contains(type.AllInterfaces, i => i.ToDisplayString() == "EMANet.Runtime.Networks.ISegmentationNetwork");
        Assert.Equal("TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>", type.BaseType!.ToDisplayString());
    }

    [Fact]
    public void AuxiliaryHead_RunsInForwardTrainingOnly()
    {
        var source = GeneratorHarness.Run(GeneratorHarness.Compile(AuxiliaryNetwork)).AssertClean().Source("T.EmaNetAux.g.cs")!;
        string Body(string signature)
        {
            int start = source.IndexOf(signature, StringComparison.Ordinal);
            Assert.True(start >= 0, signature + " not found");
            int end = source.IndexOf("\n\n", start, StringComparison.Ordinal);
            return source.Substring(start, end - start);
        }
        var forward = Body("public override global::TorchSharp.torch.Tensor forward(");
        var training = Body("ForwardTraining(global::TorchSharp.torch.Tensor input)\n");
        Assert.DoesNotContain("aux_classifier", forward);
        Assert.DoesNotContain("aux_head", forward);
        Assert.Contains("this.aux_head.call(backbone_layer3)", training);
        Assert.Contains("this.aux_classifier.call(aux_head)", training);
    }

    [Fact]
    public void NetworkName_IsTheAttributesName_OrTheKebabCasedTypeName()
    {
        var run = GeneratorHarness.Run(GeneratorHarness.Compile(
            """
            namespace T;
            [SegmentationNetwork("my-custom-name", InputHeight = 65, InputWidth = 65)]
            public partial class SomethingElse
            {
                [Conv(8, 3)] private readonly ConvBlock a;
                [Classifier] private readonly Conv2d classifier;
            }
            """,
            """
            namespace T;
            [SegmentationNetwork("", InputHeight = 65, InputWidth = 65)]
            public partial class MyEmaNetR50
            {
                [Conv(8, 3)] private readonly ConvBlock a;
                [Classifier] private readonly Conv2d classifier;
            }
            """)).AssertClean();
        string NameOf(string type) => (string)run.Output.GetTypeByMetadataName(type)!.GetMembers("NetworkName").OfType<IFieldSymbol>().Single().ConstantValue!;
        Assert.Equal("my-custom-name", NameOf("T.SomethingElse"));
        Assert.Equal("my-ema-net-r50", NameOf("T.MyEmaNetR50"));
        Assert.Contains("Name = \"my-custom-name\",", run.Source("T.SomethingElse.g.cs"));
    }

    [Fact]
    public void GeneratedAssembly_Loads_AndItsCatalogueHoldsEveryValidNetwork()
    {
        var run = GeneratorHarness.Run(GeneratorHarness.Compile(AuxiliaryNetwork, DecoderNetwork, PlainNetwork,
            """
            namespace T;
            [SegmentationNetwork("broken")]
            public partial class Broken
            {
                [Conv(8, 3, From = "nowhere")] private readonly ConvBlock a;
            }
            """)).AssertNoCrash();
        Assert.Equal(new[] { "EMA0010" }, run.EmaErrors.Select(d => d.Id));
        using var stream = new MemoryStream();
        var emitted = run.Output.Emit(stream);
        Assert.True(emitted.Success, GeneratorRun.Describe(emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        stream.Position = 0;
        var context = new AssemblyLoadContext("generated", isCollectible: true);
        try
        {
            var assembly = context.LoadFromStream(stream);
            var all = (IEnumerable<EMANet.Runtime.Networks.NetworkDescriptor>)assembly.GetType("EMANet.Generated.GeneratedNetworks")!
                .GetProperty("All", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
            Assert.Equal(new[] { "T.DeepLabV3PlusTiny", "T.EmaNetAux", "T.Inner.Plain" }, all.Select(d => d.NetworkType.FullName));
            Assert.Equal(new[] { "deeplabv3plus-tiny", "emanet-aux", "plain" }, all.Select(d => d.Name));
            // The descriptor's constants are what the shared engine computes for the declaration.
            foreach (var descriptor in all)
            {
                var analysis = descriptor.Analyze();
                Assert.False(analysis.HasErrors);
                Assert.Equal(analysis.Parameters, descriptor.ParameterCount);
                Assert.Equal(analysis.Flops, descriptor.Flops);
                Assert.Equal(analysis.Macs, descriptor.MultiplyAccumulates);
                Assert.Equal(analysis.MemoryBytes, descriptor.ActivationBytes);
            }
            var registered = assembly.GetCustomAttributes<EMANet.Runtime.Networks.GeneratedNetworkAttribute>().Select(a => a.NetworkType.FullName).OrderBy(s => s);
            Assert.Equal(new[] { "T.DeepLabV3PlusTiny", "T.EmaNetAux", "T.Inner.Plain" }, registered);
        }
        finally
        {
            context.Unload();
        }
    }
}
