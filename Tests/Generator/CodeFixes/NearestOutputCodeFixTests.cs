using EMANet.Generator.CodeFixes;
using Verify = EMANet.Tests.Generator.CodeFixes.CodeFixVerifier<EMANet.Generator.CodeFixes.NearestOutputCodeFix>;

namespace EMANet.Tests.Generator.CodeFixes;

/// <summary>EMA0010: "replace a misspelt From with the nearest known output".</summary>
public class NearestOutputCodeFixTests
{
    [Fact]
    public Task ReplacesAMisspeltFrom() => Verify.VerifyAsync(
        """
        namespace T;
        [SegmentationNetwork("net", InputHeight = 65, InputWidth = 65)]
        public partial class Net
        {
            [Conv(8, 3)] private readonly ConvBlock stem;
            [Conv(8, 3)] private readonly ConvBlock body;
            [Classifier({|EMA0010:From = "stme"|})] private readonly Conv2d classifier;
        }
        """,
        """
        namespace T;
        [SegmentationNetwork("net", InputHeight = 65, InputWidth = 65)]
        public partial class Net
        {
            [Conv(8, 3)] private readonly ConvBlock stem;
            [Conv(8, 3)] private readonly ConvBlock body;
            [Classifier(From = "stem")] private readonly Conv2d classifier;
        }
        """);

    /// <summary>An [Add]'s inputs are references like From.</summary>
    [Fact]
    public Task ReplacesAMisspeltInput() => Verify.VerifyAsync(
        """
        namespace T;
        [SegmentationNetwork("net", InputHeight = 65, InputWidth = 65)]
        public partial class Net
        {
            [Conv(8, 3)] private readonly ConvBlock left;
            [Conv(8, 3, From = "input")] private readonly ConvBlock right;
            [Add("left", {|EMA0010:"rigth"|})] private readonly ResidualAdd sum;
            [Classifier] private readonly Conv2d classifier;
        }
        """,
        """
        namespace T;
        [SegmentationNetwork("net", InputHeight = 65, InputWidth = 65)]
        public partial class Net
        {
            [Conv(8, 3)] private readonly ConvBlock left;
            [Conv(8, 3, From = "input")] private readonly ConvBlock right;
            [Add("left", "right")] private readonly ResidualAdd sum;
            [Classifier] private readonly Conv2d classifier;
        }
        """);

    /// <summary>An [Upsample]'s SizeOf is a reference too.</summary>
    [Fact]
    public Task ReplacesAMisspeltSizeOf() => Verify.VerifyAsync(
        """
        namespace T;
        [SegmentationNetwork("net", InputHeight = 65, InputWidth = 65)]
        public partial class Net
        {
            [Conv(8, 3, Stride = 2)] private readonly ConvBlock down;
            [Classifier] private readonly Conv2d classifier;
            [Upsample({|EMA0010:SizeOf = "inptu"|})] private readonly BilinearUpsample upsample;
        }
        """,
        """
        namespace T;
        [SegmentationNetwork("net", InputHeight = 65, InputWidth = 65)]
        public partial class Net
        {
            [Conv(8, 3, Stride = 2)] private readonly ConvBlock down;
            [Classifier] private readonly Conv2d classifier;
            [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
        }
        """);

    /// <summary>"conv3" is one edit from "conv1" and from "conv2": no output is clearly meant, so no fix.</summary>
    [Fact]
    public Task NotOffered_WhenTwoOutputsAreEquallyNear() => Verify.VerifyNotOfferedAsync(
        """
        namespace T;
        [SegmentationNetwork("net", InputHeight = 65, InputWidth = 65)]
        public partial class Net
        {
            [Conv(8, 3)] private readonly ConvBlock conv1;
            [Conv(8, 3)] private readonly ConvBlock conv2;
            [Classifier({|EMA0010:From = "conv3"|})] private readonly Conv2d classifier;
        }
        """);

    /// <summary>A name nothing resembles ("decoder" among "stem" and "input"), and a layer declared later (EMA0011, not this fix).</summary>
    [Fact]
    public Task NotOffered_ForANameNothingResembles_OrALaterLayer() => Verify.VerifyNotOfferedAsync(
        """
        namespace T;
        [SegmentationNetwork("net", InputHeight = 65, InputWidth = 65)]
        public partial class Net
        {
            [Conv(8, 3)] private readonly ConvBlock stem;
            [Conv(8, 3, {|EMA0011:From = "classifier"|})] private readonly ConvBlock body;
            [Classifier({|EMA0010:From = "decoder"|})] private readonly Conv2d classifier;
        }
        """);

    [Theory]
    [InlineData("stme", "stem,body,input", "stem")]          // a swap of two neighbours is one edit
    [InlineData("backbone.layr1", "backbone,backbone.layer1,backbone.layer2,input", "backbone.layer1")]
    [InlineData("Stem", "stem,input", "stem")]               // names are case-sensitive, as the engine reads them
    [InlineData("conv3", "conv1,conv2", null)]               // a tie
    [InlineData("head", "stem,input", null)]                 // too far (4 edits, at most 1 allowed for 4 letters)
    [InlineData("x", "y", "y")]                              // one edit is always allowed
    public void NearestName_IsOfferedOnlyWhenClear(string typed, string known, string? expected) =>
        Assert.Equal(expected, NearestName.Find(typed, known.Split(',')));

    [Theory]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("ab", "ba", 1)]
    [InlineData("", "abc", 3)]
    [InlineData("same", "same", 0)]
    public void Distance_CountsInsertionsDeletionsSubstitutionsAndSwaps(string a, string b, int expected)
    {
        Assert.Equal(expected, NearestName.Distance(a, b));
        Assert.Equal(expected, NearestName.Distance(b, a));
    }
}
