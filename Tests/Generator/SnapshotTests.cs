using EMANet.Tests.Training;

namespace EMANet.Tests.Generator;

/// <summary>The generated source of representative declarations, against committed golden files.</summary>
public class SnapshotTests
{
    /// <summary>Models/EMANet/EmaNetTiny.cs, copied.</summary>
    internal const string TinyEmaNet = """
        namespace EMANet.Models;
        [SegmentationNetwork("emanet-tiny", InputHeight = 129, InputWidth = 129)]
        public partial class EmaNetTiny
        {
            [ResNet(18, Stem = ResNetStem.Deep, OutputStride = 8, WidthMultiplier = 0.25)] private readonly ResNet backbone;
            [ConvBnRelu(64, 3)] private readonly ConvBlock fc0;
            [EmaUnit(Bases = 16, Iterations = 3, Momentum = 0.9)] private readonly EmaUnit emau;
            [ConvBnRelu(64, 3, Dropout = 0.1)] private readonly ConvBlock fc1;
            [Classifier] private readonly Conv2d fc2;
            [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
        }
        """;

    /// <summary>mmsegmentation's EMANet at CPU size: stem widths, contracted dilation without multi-grid, a frozen conv, the MMSeg EMA unit, layer4 into a concat, align_corners = false for both resizes.</summary>
    internal const string MmsegStyleNetwork = """
        namespace T;
        [SegmentationNetwork("mmseg-style", Classes = 5, InputHeight = 64, InputWidth = 64)]
        public partial class MmsegStyle
        {
            [ResNet(50, StemWidths = new[] { 8, 8, 16 }, OutputStride = 8, WidthMultiplier = 0.125, ContractDilation = false, MultiGrid = new int[0])] private readonly ResNet backbone;
            [ConvBnRelu(32, 3)] private readonly ConvBlock ema_in_conv;
            [Conv(32, 1, Bias = true, Frozen = true)] private readonly ConvBlock ema_mid_conv;
            [EmaUnit(Bases = 8, Momentum = 0.1, Style = EmaUnitStyle.MMSeg)] private readonly EmaUnit ema_module;
            [ReLU] private readonly ReLU ema_relu;
            [Conv(32, 1, Norm = true)] private readonly ConvBlock ema_out_conv;
            [Add("ema_in_conv", "ema_out_conv")] private readonly ResidualAdd ema_residual;
            [ReLU] private readonly ReLU ema_residual_relu;
            [ConvBnRelu(16, 3)] private readonly ConvBlock bottleneck;
            [Concat("backbone", "bottleneck")] private readonly Concatenate concat_input;
            [ConvBnRelu(16, 3, Dropout = 0.1)] private readonly ConvBlock conv_cat;
            [Classifier] private readonly Conv2d conv_seg;
            [Upsample(SizeOf = "input", AlignCorners = false)] private readonly BilinearUpsample upsample;
            [ConvBnRelu(16, 3, From = "backbone.layer3", Dropout = 0.1)] private readonly ConvBlock auxiliary_conv0;
            [Classifier(Auxiliary = true, AlignCorners = false)] private readonly Conv2d auxiliary_conv_seg;
        }
        """;

    [Theory]
    [InlineData("EmaNetTiny", TinyEmaNet, "EMANet.Models.EmaNetTiny")]
    [InlineData("DeepLabV3PlusTiny", ValidDeclarationTests.DecoderNetwork, "T.DeepLabV3PlusTiny")]
    [InlineData("EmaNetAux", ValidDeclarationTests.AuxiliaryNetwork, "T.EmaNetAux")]
    [InlineData("Plain", ValidDeclarationTests.PlainNetwork, "T.Inner.Plain")]
    [InlineData("MmsegStyle", MmsegStyleNetwork, "T.MmsegStyle")]
    public void GeneratedSource_MatchesSnapshot(string snapshot, string source, string fullName)
    {
        var run = GeneratorHarness.Run(GeneratorHarness.Compile(source)).AssertClean();
        Snapshot.Match(snapshot, run.Source(fullName + ".g.cs")!);
        Snapshot.Match(snapshot + ".Declaration", run.Source(fullName + ".Declaration.g.cs")!);
    }

    [Fact]
    public void Catalogue_MatchesSnapshot()
    {
        var run = GeneratorHarness.Run(GeneratorHarness.Compile(TinyEmaNet, ValidDeclarationTests.DecoderNetwork, ValidDeclarationTests.AuxiliaryNetwork)).AssertClean();
        Snapshot.Match("GeneratedNetworks", run.Source("GeneratedNetworks.g.cs")!);
    }

    [Fact]
    public void SnapshotFiles_AreFoundFromTheTestRun()
    {
        // Located through [CallerFilePath]: the committed files, not copies in the output folder.
        Assert.True(Directory.Exists(Snapshot.Directory()), Snapshot.Directory());
        Assert.True(File.Exists(Snapshot.PathOf("EmaNetTiny")) || Snapshot.Accepting);
    }

    private static Func<string, string?> Environment(params (string Name, string Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;

    [Theory]
    [InlineData("true")]
    [InlineData("1")]
    [InlineData("yes")]
    public void Accepting_under_CI_is_refused_and_leaves_the_golden_file_alone(string ci)
    {
        using var temp = new TempFolders();
        var path = Path.Combine(temp.New("snapshot"), "Mismatch.g.cs.txt");
        File.WriteAllText(path, "line one\nline two\n");
        var environment = Environment((Snapshot.AcceptVariable, "1"), (Snapshot.CiVariable, ci));

        var failure = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Snapshot.MatchFile(path, "line one\nline 2\n", environment));

        Assert.Contains("refused under CI", failure.Message);
        Assert.Contains(Snapshot.AcceptVariable, failure.Message);
        Assert.Equal("line one\nline two\n", File.ReadAllText(path));
        // Even a matching text fails: the CI configuration itself is wrong, whatever the output.
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Snapshot.MatchFile(path, "line one\nline two\n", environment));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("false")]
    [InlineData("0")]
    public void Accepting_outside_CI_rewrites_the_golden_file(string? ci)
    {
        using var temp = new TempFolders();
        var path = Path.Combine(temp.New("snapshot"), "Mismatch.g.cs.txt");
        File.WriteAllText(path, "line one\nline two\n");
        var environment = ci is null ? Environment((Snapshot.AcceptVariable, "1")) : Environment((Snapshot.AcceptVariable, "1"), (Snapshot.CiVariable, ci));

        Snapshot.MatchFile(path, "line one\r\nline 2\n", environment);

        Assert.Equal("line one\nline 2\n", File.ReadAllText(path));
    }

    [Fact]
    public void A_mismatch_without_acceptance_fails_with_the_first_difference()
    {
        using var temp = new TempFolders();
        var path = Path.Combine(temp.New("snapshot"), "Mismatch.g.cs.txt");
        File.WriteAllText(path, "line one\nline two\n");

        var failure = Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => Snapshot.MatchFile(path, "line one\nline 2\n", Environment((Snapshot.CiVariable, "true"))));

        Assert.Contains("line 2: expected `line two` but got `line 2`", failure.Message);
        Snapshot.MatchFile(path, "line one\r\nline two\r\n", Environment((Snapshot.CiVariable, "true")));
    }

    [Fact]
    public void FirstDifference_NamesTheFirstDifferingLine()
    {
        Assert.Null(Snapshot.FirstDifference("a\nb\nc", "a\nb\nc"));
        Assert.Equal("line 2: expected `b` but got `x`", Snapshot.FirstDifference("a\nb\nc", "a\nx\nc"));
        Assert.Equal("line 3: expected <end of file> but got `c`", Snapshot.FirstDifference("a\nb", "a\nb\nc"));
        Assert.Equal("line 2: expected `b` but got <end of file>", Snapshot.FirstDifference("a\nb", "a"));
    }
}
