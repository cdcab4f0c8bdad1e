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

    [Theory]
    [InlineData("EmaNetTiny", TinyEmaNet, "EMANet.Models.EmaNetTiny")]
    [InlineData("DeepLabV3PlusTiny", ValidDeclarationTests.DecoderNetwork, "T.DeepLabV3PlusTiny")]
    [InlineData("EmaNetAux", ValidDeclarationTests.AuxiliaryNetwork, "T.EmaNetAux")]
    [InlineData("Plain", ValidDeclarationTests.PlainNetwork, "T.Inner.Plain")]
    public void GeneratedSource_MatchesSnapshot(string snapshot, string source, string fullName)
    {
        var run = GeneratorHarness.Run(GeneratorHarness.Compile(source)).AssertClean();
        Snapshot.Match(snapshot, run.Source(fullName + ".g.cs")!);
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

    [Fact]
    public void FirstDifference_NamesTheFirstDifferingLine()
    {
        Assert.Null(Snapshot.FirstDifference("a\nb\nc", "a\nb\nc"));
        Assert.Equal("line 2: expected `b` but got `x`", Snapshot.FirstDifference("a\nb\nc", "a\nx\nc"));
        Assert.Equal("line 3: expected <end of file> but got `c`", Snapshot.FirstDifference("a\nb", "a\nb\nc"));
        Assert.Equal("line 2: expected `b` but got <end of file>", Snapshot.FirstDifference("a\nb", "a"));
    }
}
