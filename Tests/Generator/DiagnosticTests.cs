using Microsoft.CodeAnalysis;

namespace EMANet.Tests.Generator;

/// <summary>
/// One test (at least) per diagnostic id: the id, the severity, the exact text under the
/// diagnostic's span and the message, and that nothing else is reported. Errors stop emission of
/// that network; warnings do not.
/// </summary>
public class DiagnosticTests
{
    private const DiagnosticSeverity Error = DiagnosticSeverity.Error;
    private const DiagnosticSeverity Warning = DiagnosticSeverity.Warning;

    /// <summary>One expected diagnostic: id, severity, the source text its span covers, and parts its message contains.</summary>
    internal sealed record Expected(string Id, DiagnosticSeverity Severity, string Under, params string[] Message);

    /// <summary>
    /// Runs the generator and analyzer on <paramref name="source"/> and checks that the EMA diagnostics
    /// are exactly <paramref name="expected"/>, in source order. Returns the run for further checks.
    /// </summary>
    internal static GeneratorRun Expect(string source, params Expected[] expected)
    {
        var run = GeneratorHarness.Run(GeneratorHarness.Compile(source), compileOutput: false).AssertNoCrash();
        var actual = run.Ema.OrderBy(d => d.Location.SourceSpan.Start).ThenBy(d => d.Id, StringComparer.Ordinal).ToArray();
        string all = "actual diagnostics:\n" + GeneratorRun.Describe(actual);
        Assert.True(expected.Length == actual.Length, $"expected {expected.Length} diagnostics, {all}");
        for (int i = 0; i < expected.Length; i++)
        {
            var (e, a) = (expected[i], actual[i]);
            Assert.True(e.Id == a.Id, $"diagnostic #{i + 1}: expected {e.Id}, {all}");
            Assert.True(e.Severity == a.Severity, $"diagnostic #{i + 1} ({a.Id}): expected severity {e.Severity}, {all}");
            Assert.True(a.Location.IsInSource && a.Location.SourceTree!.FilePath == "Source0.cs", $"diagnostic #{i + 1} ({a.Id}) is not in the source: {all}");
            Assert.True(e.Under == GeneratorRun.Under(a), $"diagnostic #{i + 1} ({a.Id}): expected the span to cover `{e.Under}`, {all}");
            var message = a.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
            foreach (var part in e.Message)
                Assert.True(message.Contains(part, StringComparison.Ordinal), $"diagnostic #{i + 1} ({a.Id}): message lacks \"{part}\": {message}");
        }
        return run;
    }

    private static void AssertNotGenerated(GeneratorRun run, string typeName) =>
        Assert.DoesNotContain(run.HintNames, h => h.EndsWith("." + typeName + ".g.cs", StringComparison.Ordinal) || h == typeName + ".g.cs"
                                                  || h.EndsWith("." + typeName + ".Declaration.g.cs", StringComparison.Ordinal) || h == typeName + ".Declaration.g.cs");

    private static void AssertGenerated(GeneratorRun run, string typeName) =>
        Assert.Contains("T." + typeName + ".g.cs", run.HintNames);

    // ---- EMA0001: not partial -------------------------------------------------------------

    [Fact]
    public void EMA0001_NotPartial()
    {
        var run = Expect("""
            namespace T;
            [SegmentationNetwork("not-partial", InputHeight = 65, InputWidth = 65)]
            public class NotPartial
            {
                [Conv(8, 3)] private readonly ConvBlock a;
                [Classifier] private readonly Conv2d classifier;
            }
            """,
            new Expected("EMA0001", Error, "NotPartial", "Network class 'NotPartial' must be declared partial so that the generator can add its constructor and forward"));
        AssertNotGenerated(run, "NotPartial");
    }

    // ---- EMA0002: field type --------------------------------------------------------------

    [Fact]
    public void EMA0002_ConvOnEmaUnitField_PointsAtTheFieldType()
    {
        var run = Expect("""
            namespace T;
            [SegmentationNetwork("wrong-type", InputHeight = 65, InputWidth = 65)]
            public partial class WrongType
            {
                [Conv(8, 3)] private readonly EmaUnit x;
                [Classifier] private readonly Conv2d classifier;
            }
            """,
            new Expected("EMA0002", Error, "EmaUnit", "Field 'x' is declared as 'EmaUnit' but its [Conv] layer is a ConvBlock or Conv2d"));
        AssertNotGenerated(run, "WrongType");
    }

    [Fact]
    public void EMA0002_BareConv2dWithBatchNorm()
    {
        Expect("""
            namespace T;
            [SegmentationNetwork("bare-conv", InputHeight = 65, InputWidth = 65)]
            public partial class BareConv
            {
                [ConvBnRelu(8, 3)] private readonly Conv2d x;
                [Classifier] private readonly Conv2d classifier;
            }
            """,
            new Expected("EMA0002", Error, "Conv2d", "Field 'x' is declared as 'Conv2d' but its [ConvBnRelu] layer is a ConvBlock: it asks for batch norm, ReLU or dropout"));
    }

    [Fact]
    public void EMA0002_TorchSharpsConv2d_NamesBothTypesInFull()
    {
        var run = Expect("""
            namespace T;
            [SegmentationNetwork("torchsharp-conv", InputHeight = 65, InputWidth = 65)]
            public partial class TorchSharpConv
            {
                [Conv(8, 3)] private readonly ConvBlock stem;
                [Classifier] private readonly TorchSharp.Modules.Conv2d classifier;
            }
            """,
            new Expected("EMA0002", Error, "TorchSharp.Modules.Conv2d",
                "Field 'classifier' is declared as 'TorchSharp.Modules.Conv2d' but its [Classifier] layer is a EMANet.Runtime.Blocks.Conv2d"));
        AssertNotGenerated(run, "TorchSharpConv");
    }

    [Fact]
    public void EMA0002_TorchSharpsBatchNorm2d_NamesBothTypesInFull()
    {
        // The project's BatchNorm2d replaces TorchSharp's (README.md, "TorchSharp Scalars"); same simple name, so the message says which is which.
        var run = Expect("""
            namespace T;
            [SegmentationNetwork("torchsharp-bn", InputHeight = 65, InputWidth = 65)]
            public partial class TorchSharpBn
            {
                [Conv(8, 3)] private readonly ConvBlock a;
                [BatchNorm] private readonly TorchSharp.Modules.BatchNorm2d bn;
                [Classifier] private readonly Conv2d classifier;
            }
            """,
            new Expected("EMA0002", Error, "TorchSharp.Modules.BatchNorm2d",
                "Field 'bn' is declared as 'TorchSharp.Modules.BatchNorm2d' but its [BatchNorm] layer is a EMANet.Runtime.Blocks.BatchNorm2d"));
        AssertNotGenerated(run, "TorchSharpBn");
    }

    // ---- independent errors of one declaration come in one build ----------------------------

    [Fact]
    public void A_wrong_field_type_does_not_hide_a_shape_error_of_the_same_declaration()
    {
        // Before, EMA0009 appeared only once EMA0002 was fixed.
        var run = Expect("""
            namespace T;
            [SegmentationNetwork("two-errors", InputHeight = 65, InputWidth = 65)]
            public partial class TwoErrors
            {
                [Conv(8, 3)] private readonly EmaUnit a;
                [EmaUnit(Bases = 0)] private readonly EmaUnit emau;
                [Classifier] private readonly Conv2d classifier;
            }
            """,
            new Expected("EMA0002", Error, "EmaUnit", "Field 'a' is declared as 'EmaUnit'"),
            new Expected("EMA0009", Error, "Bases = 0", "Bases = 0 is out of range"));
        AssertNotGenerated(run, "TwoErrors");
    }

    // ---- declarations the generator cannot order or name -----------------------------------

    [Fact]
    public void A_partial_record_is_named_as_a_record_not_as_not_partial()
    {
        var run = Expect("""
            namespace T;
            [SegmentationNetwork("rec", InputHeight = 65, InputWidth = 65)]
            public partial record Rec
            {
                [Conv(8, 3)] private readonly ConvBlock a;
                [Classifier] private readonly Conv2d classifier;
            }
            """,
            new Expected("EMA0016", Error, "Rec", "Declaration the generator cannot use in network 'Rec': it is a record; declare it as a partial class"));
        AssertNotGenerated(run, "Rec");
    }

    [Fact]
    public void Layer_fields_in_two_partial_declarations_are_an_error_naming_the_files()
    {
        // Before: the layers were taken in the compiler's file order, so the head ran on the raw image before the backbone.
        var run = GeneratorHarness.Run(GeneratorHarness.Compile(
            """
            namespace T;
            public partial class Split
            {
                [Classifier] private readonly Conv2d classifier;
            }
            """,
            """
            namespace T;
            [SegmentationNetwork("split", InputHeight = 65, InputWidth = 65)]
            public partial class Split
            {
                [Conv(8, 3)] private readonly ConvBlock stem;
            }
            """), compileOutput: false).AssertNoCrash();
        var error = Assert.Single(run.Ema);
        Assert.Equal("EMA0016", error.Id);
        var message = error.GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("declared in 2 partial declarations (Source0.cs, Source1.cs)", message);
        Assert.Contains("declare every layer field in one part", message);
        Assert.Equal("stem", GeneratorRun.Under(error));
        AssertNotGenerated(run, "Split");
    }

    // ---- EMA0018: two networks with one name -----------------------------------------------

    [Fact]
    public void EMA0018_Two_networks_with_one_name_in_one_assembly_are_both_errors()
    {
        var run = GeneratorHarness.Run(GeneratorHarness.Compile(
            """
            namespace A;
            [SegmentationNetwork("twin", InputHeight = 65, InputWidth = 65)]
            public partial class Twin
            {
                [Conv(8, 3)] private readonly ConvBlock a;
                [Classifier] private readonly Conv2d classifier;
            }
            """,
            """
            namespace B;
            [SegmentationNetwork("Twin", InputHeight = 65, InputWidth = 65)]
            public partial class Other
            {
                [Conv(8, 3)] private readonly ConvBlock a;
                [Classifier] private readonly Conv2d classifier;
            }
            """), compileOutput: false).AssertNoCrash();
        var errors = run.Ema.Where(d => d.Id == "EMA0018").OrderBy(d => d.Location.SourceTree!.FilePath, StringComparer.Ordinal).ToArray();
        Assert.Equal(2, errors.Length);
        Assert.All(errors, e => Assert.Equal(Error, e.Severity));
        Assert.Contains("'A.Twin' is also the name of 'B.Other'", errors[0].GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains("'B.Other' is also the name of 'A.Twin'", errors[1].GetMessage(System.Globalization.CultureInfo.InvariantCulture));
        Assert.StartsWith("SegmentationNetwork(", GeneratorRun.Under(errors[0]));
    }

    // ---- EMA0003: invalid argument --------------------------------------------------------

    [Fact]
    public void EMA0003_ZeroOutChannels_AndZeroClasses()
    {
        var run = Expect("""
            namespace T;
            [SegmentationNetwork("zero", Classes = 0, InputHeight = 65, InputWidth = 65)]
            public partial class Zero
            {
                [Conv(0, 3)] private readonly ConvBlock a;
                [Classifier] private readonly Conv2d classifier;
            }
            """,
            new Expected("EMA0003", Error, "Classes = 0", "network 'zero': Classes = 0 must be positive"),
            new Expected("EMA0003", Error, "0", "layer 'a': OutChannels = 0 must be positive"));
        AssertNotGenerated(run, "Zero");
    }

    [Fact]
    public void EMA0003_UnknownResNetDepth_AndNegativeAsppRate()
    {
        Expect("""
            namespace T;
            [SegmentationNetwork("depth")]
            public partial class Depth
            {
                [ResNet(42)] private readonly ResNet backbone;
                [Aspp(Rates = new[] { 6, -12, 18 })] private readonly Aspp aspp;
                [Classifier] private readonly Conv2d classifier;
                [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
            }
            """,
            new Expected("EMA0003", Error, "42", "layer 'backbone': ResNet depth 42 is not one of 18, 34, 50, 101, 152"));
        // The backbone failed, so the ASPP (which reads it) is not analysed; on a valid backbone the rate is reported at the element.
        Expect("""
            namespace T;
            [SegmentationNetwork("rates", InputHeight = 65, InputWidth = 65)]
            public partial class Rates
            {
                [Conv(8, 3)] private readonly ConvBlock a;
                [Aspp(OutChannels = 8, Rates = new[] { 6, -12, 18 })] private readonly Aspp aspp;
                [Classifier] private readonly Conv2d classifier;
            }
            """,
            new Expected("EMA0003", Error, "-12", "layer 'aspp': Rates[1] = -12 must be positive"));
    }

    [Fact]
    public void EMA0003_HugeSizesOverflow_AreReportedNotWrapped()
    {
        var run = Expect("""
            namespace T;
            [SegmentationNetwork("huge", InputHeight = 2000000000, InputWidth = 2000000000)]
            public partial class Huge
            {
                [Conv(2000000000, 3)] private readonly ConvBlock a;
                [Classifier] private readonly Conv2d classifier;
            }
            """,
            new Expected("EMA0003", Error, "Conv(2000000000, 3)", "layer 'a': its sizes overflow 64-bit counts"));
        AssertNotGenerated(run, "Huge");
    }

    // ---- EMA0004: channels ----------------------------------------------------------------

    [Fact]
    public void EMA0004_ResidualAddOf256And512Channels()
    {
        var run = Expect("""
            namespace T;
            [SegmentationNetwork("add-mismatch", InputHeight = 65, InputWidth = 65)]
            public partial class AddMismatch
            {
                [Conv(256, 3)] private readonly ConvBlock a;
                [Conv(512, 3, From = "input")] private readonly ConvBlock b;
                [Add("a", "b")] private readonly ResidualAdd sum;
                [Classifier] private readonly Conv2d classifier;
            }
            """,
            new Expected("EMA0004", Error, "\"b\"",
                "layer 'sum' adds 'a' with 256 channels ('a' OutChannels = 256) to 'b' with 512 channels ('b' OutChannels = 512)"));
        AssertNotGenerated(run, "AddMismatch");
    }

    [Fact]
    public void EMA0004_GroupsDoNotDivideInputChannels()
    {
        Expect("""
            namespace T;
            [SegmentationNetwork("groups", InputHeight = 65, InputWidth = 65)]
            public partial class Groups
            {
                [Conv(8, 3, Groups = 2)] private readonly ConvBlock a;
                [Classifier] private readonly Conv2d classifier;
            }
            """,
            new Expected("EMA0004", Error, "Groups = 2", "Channel counts do not match in layer 'a': Groups = 2 does not divide its 3 input channels"));
    }

    // ---- EMA0005: spatial -----------------------------------------------------------------

    [Fact]
    public void EMA0005_ConcatOf129And65Maps()
    {
        var run = Expect("""
            namespace T;
            [SegmentationNetwork("concat-mismatch", InputHeight = 129, InputWidth = 129)]
            public partial class ConcatMismatch
            {
                [Conv(8, 3)] private readonly ConvBlock a;
                [Conv(8, 3, Stride = 2, From = "input")] private readonly ConvBlock b;
                [Concat("a", "b")] private readonly Concatenate cat;
                [Classifier] private readonly Conv2d classifier;
            }
            """,
            new Expected("EMA0005", Error, "\"b\"",
                "layer 'cat' concatenates 'a' (129x129: the network input) with 'b' (65x65: 'b' Stride = 2): maps must have the same height and width"));
        AssertNotGenerated(run, "ConcatMismatch");
    }

    [Fact]
    public void EMA0005_ResidualAddOfDifferentSizes()
    {
        Expect("""
            namespace T;
            [SegmentationNetwork("add-size", InputHeight = 129, InputWidth = 129)]
            public partial class AddSize
            {
                [Conv(8, 3)] private readonly ConvBlock a;
                [MaxPool(3, 2, From = "input")] private readonly MaxPool2d pool;
                [Conv(8, 3)] private readonly ConvBlock b;
                [Add("a", "b")] private readonly ResidualAdd sum;
                [Classifier] private readonly Conv2d classifier;
            }
            """,
            new Expected("EMA0005", Error, "\"b\"",
                "layer 'sum' adds 'a' (129x129: the network input) to 'b' (65x65: 'pool' Kernel = 3, Stride = 2): maps must have the same height and width"));
    }

    // ---- EMA0006: output stride -----------------------------------------------------------

    [Fact]
    public void EMA0006_OutputStride12()
    {
        var run = Expect("""
            namespace T;
            [SegmentationNetwork("os12", InputHeight = 129, InputWidth = 129)]
            public partial class Os12
            {
                [ResNet(18, OutputStride = 12, WidthMultiplier = 0.25)] private readonly ResNet backbone;
                [Classifier] private readonly Conv2d classifier;
                [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
            }
            """,
            new Expected("EMA0006", Error, "OutputStride = 12", "layer 'backbone': output stride 12 cannot be reached", "only 8, 16 or 32"));
        AssertNotGenerated(run, "Os12");
    }

    // ---- EMA0007: collapse ----------------------------------------------------------------

    [Fact]
    public void EMA0007_TinyInputWithStrides_CollapsesToZero()
    {
        var run = Expect("""
            namespace T;
            [SegmentationNetwork("collapse", InputHeight = 4, InputWidth = 4)]
            public partial class Collapse
            {
                [Conv(8, 3, Stride = 2, Padding = 0)] private readonly ConvBlock a;
                [Conv(8, 3, Stride = 2, Padding = 0)] private readonly ConvBlock b;
                [Classifier] private readonly Conv2d classifier;
                [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
            }
            """,
            new Expected("EMA0007", Error, "3", "layer 'b' (convolution) turns a 1x1 map into 0x0: the input 4x4 is too small for it"));
        AssertNotGenerated(run, "Collapse");
    }

    [Fact]
    public void EMA0007_KernelLargerThanInput_AtStride2_IsNotRoundedUpToOnePixel()
    {
        // (2 + 0 - 3) / 2 + 1 is 1 with C#'s truncating division but 0 with PyTorch's floor: PyTorch refuses this convolution.
        Expect("""
            namespace T;
            [SegmentationNetwork("collapse2", InputHeight = 2, InputWidth = 2)]
            public partial class Collapse2
            {
                [Conv(8, 3, Stride = 2, Padding = 0)] private readonly ConvBlock a;
                [Classifier] private readonly Conv2d classifier;
                [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
            }
            """,
            new Expected("EMA0007", Error, "3", "layer 'a' (convolution) turns a 2x2 map into 0x0: the input 2x2 is too small for it"));
    }

    [Fact]
    public void EMA0007_UpsampleScaleTooSmall()
    {
        Expect("""
            namespace T;
            [SegmentationNetwork("collapse3", InputHeight = 65, InputWidth = 65)]
            public partial class Collapse3
            {
                [Conv(8, 3)] private readonly ConvBlock a;
                [Upsample(Scale = 0.01)] private readonly BilinearUpsample down;
                [Classifier] private readonly Conv2d classifier;
                [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
            }
            """,
            new Expected("EMA0007", Error, "Scale = 0.01", "layer 'down' (resize) turns a 65x65 map into 0x0: the input 65x65 is too small for it"));
    }

    // ---- EMA0008: even kernel, same padding -----------------------------------------------

    [Fact]
    public void EMA0008_EvenKernelWithSamePadding()
    {
        var run = Expect("""
            namespace T;
            [SegmentationNetwork("even", InputHeight = 65, InputWidth = 65)]
            public partial class Even
            {
                [Conv(8, 4)] private readonly ConvBlock a;
                [Classifier] private readonly Conv2d classifier;
            }
            """,
            new Expected("EMA0008", Error, "4", "layer 'a': kernel 4 with dilation 1 spans 4 pixels, an even width that no symmetric padding centres"));
        AssertNotGenerated(run, "Even");
    }

    // ---- EMA0009: EMA ranges --------------------------------------------------------------

    [Fact]
    public void EMA0009_BasesIterationsMomentumOutOfRange()
    {
        var run = Expect("""
            namespace T;
            [SegmentationNetwork("ema-range", InputHeight = 65, InputWidth = 65)]
            public partial class EmaRange
            {
                [Conv(8, 3)] private readonly ConvBlock a;
                [EmaUnit(Bases = 0, Iterations = 100, Momentum = 2)] private readonly EmaUnit emau;
                [Classifier] private readonly Conv2d classifier;
            }
            """,
            new Expected("EMA0009", Error, "Bases = 0", "layer 'emau': Bases = 0 is out of range 1..4096"),
            new Expected("EMA0009", Error, "Iterations = 100", "layer 'emau': Iterations = 100 is out of range 1..50"),
            new Expected("EMA0009", Error, "Momentum = 2", "layer 'emau': Momentum = 2 must be in [0, 1]"));
        AssertNotGenerated(run, "EmaRange");
    }

    [Fact]
    public void EMA0009_NaNMomentum()
    {
        Expect("""
            namespace T;
            [SegmentationNetwork("ema-nan", InputHeight = 65, InputWidth = 65)]
            public partial class EmaNaN
            {
                [Conv(8, 3)] private readonly ConvBlock a;
                [EmaUnit(Momentum = double.NaN)] private readonly EmaUnit emau;
                [Classifier] private readonly Conv2d classifier;
            }
            """,
            new Expected("EMA0009", Error, "Momentum = double.NaN", "layer 'emau': Momentum = NaN must be in [0, 1]"));
    }

    // ---- EMA0010: unknown layer -----------------------------------------------------------

    [Fact]
    public void EMA0010_FromUnknownLayer()
    {
        var run = Expect("""
            namespace T;
            [SegmentationNetwork("unknown", InputHeight = 65, InputWidth = 65)]
            public partial class Unknown
            {
                [Conv(8, 3)] private readonly ConvBlock a;
                [Conv(8, 3, From = "nope")] private readonly ConvBlock b;
                [Classifier] private readonly Conv2d classifier;
            }
            """,
            new Expected("EMA0010", Error, "From = \"nope\"", "Unknown layer reference in layer 'b': layer 'b' reads 'nope', which is not a layer of network 'unknown'; known so far: input, a"));
        AssertNotGenerated(run, "Unknown");
    }

    [Fact]
    public void EMA0010_UnknownConcatInput_UnknownStage_UnknownSizeOf()
    {
        Expect("""
            namespace T;
            [SegmentationNetwork("unknown2", InputHeight = 129, InputWidth = 129)]
            public partial class Unknown2
            {
                [ResNet(18, WidthMultiplier = 0.25)] private readonly ResNet backbone;
                [Conv(8, 1, From = "backbone.layer9")] private readonly ConvBlock low;
                [Conv(8, 1, From = "backbone")] private readonly ConvBlock high;
                [Concat("high", "nope")] private readonly Concatenate cat;
                [Upsample(From = "high", SizeOf = "missing")] private readonly BilinearUpsample up;
                [Classifier(From = "high")] private readonly Conv2d classifier;
                [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
            }
            """,
            new Expected("EMA0010", Error, "From = \"backbone.layer9\"", "layer 'low' reads 'backbone.layer9', but 'backbone' has no such output; known outputs: backbone.stem, backbone.layer1, backbone.layer2, backbone.layer3, backbone.layer4, backbone"),
            new Expected("EMA0010", Error, "\"nope\"", "layer 'cat' reads 'nope', which is not a layer of network 'unknown2'"),
            new Expected("EMA0010", Error, "SizeOf = \"missing\"", "layer 'up' takes its size from 'missing', which is not a layer of network 'unknown2'"));
    }

    [Fact]
    public void EMA0010_IsNotReported_ForAReferenceToALayerThatFailed()
    {
        // 'a' is invalid; 'b', 'cat' and 'up' read it and must not pile on with "unknown layer".
        Expect("""
            namespace T;
            [SegmentationNetwork("cascade", InputHeight = 65, InputWidth = 65)]
            public partial class Cascade
            {
                [Conv(0, 3)] private readonly ConvBlock a;
                [Conv(8, 3, From = "a")] private readonly ConvBlock b;
                [Concat("b", "a")] private readonly Concatenate cat;
                [Upsample(From = "input", SizeOf = "a")] private readonly BilinearUpsample up;
                [Classifier] private readonly Conv2d classifier;
            }
            """,
            new Expected("EMA0003", Error, "0", "layer 'a': OutChannels = 0 must be positive"));
    }

    [Fact]
    public void EMA0010_StageOfTheInput()
    {
        Expect("""
            namespace T;
            [SegmentationNetwork("input-stage", InputHeight = 65, InputWidth = 65)]
            public partial class InputStage
            {
                [Classifier(From = "input.layer1")] private readonly Conv2d classifier;
            }
            """,
            new Expected("EMA0010", Error, "From = \"input.layer1\"", "layer 'classifier' reads 'input.layer1', but 'input' has no such output; known outputs: input"));
    }

    // ---- EMA0011: forward reference -------------------------------------------------------

    [Fact]
    public void EMA0011_FromALaterLayer()
    {
        var run = Expect("""
            namespace T;
            [SegmentationNetwork("later", InputHeight = 65, InputWidth = 65)]
            public partial class Later
            {
                [Conv(8, 3)] private readonly ConvBlock a;
                [Conv(8, 3, From = "c")] private readonly ConvBlock b;
                [Conv(8, 3)] private readonly ConvBlock c;
                [Classifier] private readonly Conv2d classifier;
            }
            """,
            new Expected("EMA0011", Error, "From = \"c\"", "layer 'b' reads 'c', which is declared later (layer #3); layers run in declaration order"));
        AssertNotGenerated(run, "Later");
    }

    [Fact]
    public void EMA0011_ReadsItself_AndSizeOfLater()
    {
        Expect("""
            namespace T;
            [SegmentationNetwork("itself", InputHeight = 65, InputWidth = 65)]
            public partial class Itself
            {
                [Conv(8, 3)] private readonly ConvBlock a;
                [Add("a", "sum")] private readonly ResidualAdd sum;
                [Upsample(From = "a", SizeOf = "classifier")] private readonly BilinearUpsample up;
                [Classifier(From = "a")] private readonly Conv2d classifier;
            }
            """,
            new Expected("EMA0011", Error, "\"sum\"", "layer 'sum' reads its own output 'sum'"),
            new Expected("EMA0011", Error, "SizeOf = \"classifier\"", "layer 'up' takes its size from 'classifier', which is declared later"));
    }

    // ---- EMA0012: duplicate names ---------------------------------------------------------

    [Fact]
    public void EMA0012_FieldNamedInput()
    {
        var run = Expect("""
            namespace T;
            [SegmentationNetwork("named-input", InputHeight = 65, InputWidth = 65)]
            public partial class NamedInput
            {
                [Conv(8, 3)] private readonly ConvBlock input;
                [Classifier] private readonly Conv2d classifier;
            }
            """,
            new Expected("EMA0012", Error, "input", "layer name 'input' is the name of the network input"));
        AssertNotGenerated(run, "NamedInput");
    }

    [Fact]
    public void EMA0012_FieldNamedLikeAGeneratedMember()
    {
        var run = Expect("""
            namespace T;
            [SegmentationNetwork("named-flops", InputHeight = 65, InputWidth = 65)]
            public partial class NamedFlops
            {
                [Conv(8, 3)] private readonly ConvBlock Flops;
                [Classifier] private readonly Conv2d forward;
            }
            """,
            new Expected("EMA0012", Error, "Flops", "Duplicate layer name in field 'Flops': it has the name of a member the generator adds to 'NamedFlops'"),
            new Expected("EMA0012", Error, "forward", "Duplicate layer name in field 'forward': it has the name of a member the generator adds to 'NamedFlops'"));
        AssertNotGenerated(run, "NamedFlops");
    }

    // ---- EMA0013: input not divisible (warning) -------------------------------------------

    [Fact]
    public void EMA0013_Input500AtOutputStride8_IsAWarningAndStillGenerates()
    {
        var run = Expect("""
            namespace T;
            [SegmentationNetwork("input500", InputHeight = 500, InputWidth = 500)]
            public partial class Input500
            {
                [ResNet(18, OutputStride = 8, WidthMultiplier = 0.25)] private readonly ResNet backbone;
                [Classifier] private readonly Conv2d classifier;
                [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
            }
            """,
            new Expected("EMA0013", Warning, "InputHeight = 500",
                "input 500x500 is neither a multiple of the output stride 8 nor a multiple plus one (e.g. 497 or 505)"));
        AssertGenerated(run, "Input500");
    }

    [Fact]
    public void EMA0013_OnlyTheWidth_PointsAtTheWidth()
    {
        Expect("""
            namespace T;
            [SegmentationNetwork("width", InputHeight = 513, InputWidth = 500)]
            public partial class Width
            {
                [ResNet(18, OutputStride = 16, WidthMultiplier = 0.25)] private readonly ResNet backbone;
                [Classifier] private readonly Conv2d classifier;
                [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
            }
            """,
            new Expected("EMA0013", Warning, "InputWidth = 500", "Input size of network 'width' does not fit the output stride: input 513x500 is neither a multiple of the output stride 16 nor a multiple plus one"));
    }

    // ---- EMA0014: output channels != classes ----------------------------------------------

    [Fact]
    public void EMA0014_OutputChannelsAreNotClasses()
    {
        var run = Expect("""
            namespace T;
            [SegmentationNetwork("no-classifier", Classes = 19, InputHeight = 65, InputWidth = 65)]
            public partial class NoClassifier
            {
                [ConvBnRelu(64, 3)] private readonly ConvBlock head;
                [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
            }
            """,
            new Expected("EMA0014", Error, "Upsample(SizeOf = \"input\")",
                "layer 'upsample' is the network's output but has 64 channels ('head' OutChannels = 64), while the network has Classes = 19: end with a [Classifier]"));
        AssertNotGenerated(run, "NoClassifier");
    }

    // ---- EMA0015: output size != input size -----------------------------------------------

    [Fact]
    public void EMA0015_MissingFinalUpsample()
    {
        var run = Expect("""
            namespace T;
            [SegmentationNetwork("no-upsample", InputHeight = 129, InputWidth = 129)]
            public partial class NoUpsample
            {
                [ResNet(18, OutputStride = 8, WidthMultiplier = 0.25)] private readonly ResNet backbone;
                [Classifier] private readonly Conv2d classifier;
            }
            """,
            new Expected("EMA0015", Error, "Classifier",
                "Output of layer 'classifier' is not at the input size: layer 'classifier' is the network's output but is 17x17 while the input is 129x129: end with [Upsample(SizeOf = \"input\")]"));
        AssertNotGenerated(run, "NoUpsample");
    }

    // ---- EMA0016: unsupported declarations ------------------------------------------------

    [Fact]
    public void EMA0016_NestedClass()
    {
        var run = Expect("""
            namespace T;
            public partial class Outer
            {
                [SegmentationNetwork("nested", InputHeight = 65, InputWidth = 65)]
                public partial class Nested
                {
                    [Conv(8, 3)] private readonly ConvBlock a;
                    [Classifier] private readonly Conv2d classifier;
                }
            }
            """,
            new Expected("EMA0016", Error, "Nested", "Declaration the generator cannot use in network class 'Nested': it is nested in 'Outer'; declare networks as top-level classes"));
        Assert.DoesNotContain(run.HintNames, h => h.Contains("Nested"));
    }

    [Fact]
    public void EMA0016_GenericClass()
    {
        var run = Expect("""
            namespace T;
            [SegmentationNetwork("generic", InputHeight = 65, InputWidth = 65)]
            public partial class Generic<TItem>
            {
                [Conv(8, 3)] private readonly ConvBlock a;
                [Classifier] private readonly Conv2d classifier;
            }
            """,
            new Expected("EMA0016", Error, "Generic", "Declaration the generator cannot use in network class 'Generic': it is generic; networks cannot have type parameters"));
        Assert.DoesNotContain(run.HintNames, h => h.Contains("Generic"));
    }

    [Fact]
    public void EMA0016_NonPartialNested_ReportsBoth()
    {
        Expect("""
            namespace T;
            public partial class Outer
            {
                [SegmentationNetwork("nested")]
                public class Nested
                {
                    [Conv(8, 3)] private readonly ConvBlock a;
                }
            }
            """,
            new Expected("EMA0001", Error, "Nested", "Network class 'Nested' must be declared partial"),
            new Expected("EMA0016", Error, "Nested", "in network class 'Nested': it is nested in 'Outer'"));
    }

    [Fact]
    public void EMA0016_BaseClass_TwoLayerAttributes_StaticField_NoLayers()
    {
        Expect("""
            namespace T;
            public class SomeBase { }
            [SegmentationNetwork("derived", InputHeight = 65, InputWidth = 65)]
            public partial class Derived : SomeBase
            {
                [Conv(8, 3)] private readonly ConvBlock a;
                [Classifier] private readonly Conv2d classifier;
            }
            """,
            new Expected("EMA0016", Error, "Derived", "Declaration the generator cannot use in network class 'Derived': it derives from 'SomeBase'"));
        Expect("""
            namespace T;
            [SegmentationNetwork("two", InputHeight = 65, InputWidth = 65)]
            public partial class Two
            {
                [Conv(8, 3)] [ReLU] private readonly ConvBlock a;
                [Classifier] private static readonly Conv2d classifier = null!;
            }
            """,
            new Expected("EMA0016", Error, "ReLU", "in field 'a': it has 2 layer attributes; a field declares exactly one layer"),
            new Expected("EMA0016", Error, "Classifier", "in field 'classifier': it is static; layers are instance fields"));
        Expect("""
            namespace T;
            [SegmentationNetwork("empty")]
            public partial class Empty
            {
            }
            """,
            new Expected("EMA0016", Error, "SegmentationNetwork(\"empty\")", "network 'empty' declares no layers"));
    }

    [Fact]
    public void EMA0016_InferenceLayerReadsAnAuxiliaryClassifier()
    {
        // The auxiliary classifier runs in training only; the upsample after it would read it in forward.
        var run = Expect("""
            namespace T;
            [SegmentationNetwork("aux-middle", InputHeight = 65, InputWidth = 65)]
            public partial class AuxMiddle
            {
                [Conv(8, 3)] private readonly ConvBlock a;
                [Classifier(Auxiliary = true)] private readonly Conv2d aux;
                [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
                [Classifier(From = "a")] private readonly Conv2d classifier;
                [Upsample(From = "aux", SizeOf = "input")] private readonly BilinearUpsample up2;
            }
            """,
            new Expected("EMA0016", Error, "Upsample(SizeOf = \"input\")",
                "layer 'upsample' reads 'aux', an auxiliary classifier, which runs in training only; declare auxiliary heads after the main output"),
            new Expected("EMA0016", Error, "From = \"aux\"", "layer 'up2' reads 'aux', an auxiliary classifier, which runs in training only; read a layer of the inference path"));
        AssertNotGenerated(run, "AuxMiddle");
    }

    [Fact]
    public void EMA0016_OnlyAuxiliaryLayers_NoMainOutput()
    {
        Expect("""
            namespace T;
            [SegmentationNetwork("only-aux", InputHeight = 65, InputWidth = 65)]
            public partial class OnlyAux
            {
                [Conv(8, 3)] private readonly ConvBlock a;
                [Classifier(Auxiliary = true)] private readonly Conv2d aux;
            }
            """,
            new Expected("EMA0016", Error, "SegmentationNetwork(\"only-aux\", InputHeight = 65, InputWidth = 65)", "network 'only-aux' has no main output"));
    }

    // ---- EMA0017: explicit padding changes the size (warning) -----------------------------

    [Fact]
    public void EMA0017_ExplicitPaddingAtStride1_IsAWarningAndStillGenerates()
    {
        var run = Expect("""
            namespace T;
            [SegmentationNetwork("padding", InputHeight = 65, InputWidth = 65)]
            public partial class Padding
            {
                [Conv(8, 3, Padding = 0)] private readonly ConvBlock a;
                [Classifier] private readonly Conv2d classifier;
                [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
            }
            """,
            new Expected("EMA0017", Warning, "Padding = 0",
                "layer 'a': Padding = 0 with kernel 3 and dilation 1 turns 65x65 into 63x63 at stride 1; 'same' padding would be 1"));
        AssertGenerated(run, "Padding");
    }

    // ---- every id is covered --------------------------------------------------------------

    [Fact]
    public void EveryDiagnosticId_HasATestHere()
    {
        var ids = typeof(EMANet.Engine.DiagnosticIds).GetFields().Select(f => (string)f.GetValue(null)!).OrderBy(s => s).ToArray();
        Assert.Equal(Enumerable.Range(1, 18).Select(i => $"EMA{i:0000}"), ids);
        var tested = typeof(DiagnosticTests).GetMethods().Where(m => m.GetCustomAttributes(typeof(FactAttribute), false).Length > 0)
            .Select(m => m.Name.Split('_')[0]).ToHashSet();
        Assert.All(ids, id => Assert.Contains(id, tested));
    }

    // ---- errors stop that network only; warnings stop nothing -----------------------------

    [Fact]
    public void AnError_StopsOnlyItsOwnNetwork()
    {
        var run = GeneratorHarness.Run(GeneratorHarness.Compile(
            """
            namespace T;
            [SegmentationNetwork("good", InputHeight = 65, InputWidth = 65)]
            public partial class Good
            {
                [Conv(8, 3)] private readonly ConvBlock a;
                [Classifier] private readonly Conv2d classifier;
            }
            """,
            """
            namespace T;
            [SegmentationNetwork("bad", InputHeight = 65, InputWidth = 65)]
            public partial class Bad
            {
                [Conv(8, 4)] private readonly ConvBlock a;
                [Classifier] private readonly Conv2d classifier;
            }
            """,
            """
            namespace T;
            [SegmentationNetwork("warned", InputHeight = 65, InputWidth = 65)]
            public partial class Warned
            {
                [Conv(8, 3, Padding = 0)] private readonly ConvBlock a;
                [Classifier] private readonly Conv2d classifier;
                [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
            }
            """)).AssertNoCrash();
        Assert.Equal(new[] { "EMA0008", "EMA0017" }, run.Ema.Select(d => d.Id).OrderBy(s => s));
        Assert.Equal(new[] { "GeneratedNetworks.g.cs", "T.Good.Declaration.g.cs", "T.Good.g.cs", "T.Warned.Declaration.g.cs", "T.Warned.g.cs" },
            run.HintNames.OrderBy(h => h, StringComparer.Ordinal));
        var catalog = run.Source("GeneratedNetworks.g.cs")!;
        Assert.Contains("global::T.Good.Descriptor,", catalog);
        Assert.Contains("global::T.Warned.Descriptor,", catalog);
        Assert.DoesNotContain("T.Bad", catalog);
        // Bad's fields stay unassigned (compiler warnings there); everything else compiles cleanly.
        Assert.Empty(run.OutputErrors);
        Assert.NotEmpty(run.OutputProblems);
        Assert.All(run.OutputProblems, d => Assert.Equal("Source1.cs", d.Location.SourceTree?.FilePath));
    }
    // ---- language additions for mmsegmentation's networks -------------------------------------

    [Fact]
    public void EMA0003_StemWidths_WrongCountForTheStem_AndNonPositive()
    {
        var run = Expect("""
            namespace T;
            [SegmentationNetwork("stem", InputHeight = 65, InputWidth = 65)]
            public partial class Stem
            {
                [ResNet(18, Stem = ResNetStem.Deep, StemWidths = new[] { 32, 64 }, WidthMultiplier = 0.25)] private readonly ResNet backbone;
                [Classifier] private readonly Conv2d classifier;
                [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
            }
            """,
            new Expected("EMA0003", Error, "StemWidths = new[] { 32, 64 }", "layer 'backbone': StemWidths has 2 values but the deep stem has three convolutions; give 3 widths"));
        AssertNotGenerated(run, "Stem");
        Expect("""
            namespace T;
            [SegmentationNetwork("stem-zero", InputHeight = 65, InputWidth = 65)]
            public partial class StemZero
            {
                [ResNet(18, Stem = ResNetStem.TorchVision, StemWidths = new[] { 0 }, WidthMultiplier = 0.25)] private readonly ResNet backbone;
                [Classifier] private readonly Conv2d classifier;
                [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
            }
            """,
            new Expected("EMA0003", Error, "0", "layer 'backbone': StemWidths[0] = 0 must be in 1..65536"));
    }

    [Fact]
    public void EMA0003_MMSegEmaUnit_WithRenormalize_AndAnUnknownStyle()
    {
        Expect("""
            namespace T;
            [SegmentationNetwork("ema-style", InputChannels = 16, InputHeight = 9, InputWidth = 9)]
            public partial class EmaStyle
            {
                [EmaUnit(Bases = 4, Style = EmaUnitStyle.MMSeg, Renormalize = true)] private readonly EmaUnit ema_module;
                [Classifier] private readonly Conv2d classifier;
            }
            """,
            new Expected("EMA0003", Error, "Renormalize = true", "layer 'ema_module': Renormalize is a choice of the Authors style; the MMSeg style always normalises"));
        Expect("""
            namespace T;
            [SegmentationNetwork("ema-style-7", InputChannels = 16, InputHeight = 9, InputWidth = 9)]
            public partial class EmaStyle7
            {
                [EmaUnit(Bases = 4, Style = (EmaUnitStyle)7)] private readonly EmaUnit ema_module;
                [Classifier] private readonly Conv2d classifier;
            }
            """,
            new Expected("EMA0003", Error, "Style = (EmaUnitStyle)7", "layer 'ema_module': Style = 7 is not an EmaUnitStyle value"));
    }

    [Fact]
    public void EMA0003_AlignCornersOnTheMainClassifier_PointsAtTheUpsample()
    {
        var run = Expect("""
            namespace T;
            [SegmentationNetwork("aligned", InputHeight = 9, InputWidth = 9)]
            public partial class Aligned
            {
                [Conv(8, 3)] private readonly ConvBlock a;
                [Classifier(AlignCorners = false)] private readonly Conv2d classifier;
            }
            """,
            new Expected("EMA0003", Error, "AlignCorners = false", "layer 'classifier': AlignCorners applies to an auxiliary classifier", "[Upsample]"));
        AssertNotGenerated(run, "Aligned");
    }
}
