using EMANet.Generator.CodeFixes;
using Verify = EMANet.Tests.Generator.CodeFixes.CodeFixVerifier<EMANet.Generator.CodeFixes.MakePartialCodeFix>;

namespace EMANet.Tests.Generator.CodeFixes;

/// <summary>EMA0001: "make the class partial".</summary>
public class MakePartialCodeFixTests
{
    [Fact]
    public Task AddsPartial_AfterTheOtherModifiers() => Verify.VerifyAsync(
        """
        namespace T;
        [SegmentationNetwork("net", InputHeight = 65, InputWidth = 65)]
        public sealed class {|EMA0001:Net|}
        {
            [Conv(8, 3)] private readonly ConvBlock a;
            [Classifier] private readonly Conv2d classifier;
        }
        """,
        """
        namespace T;
        [SegmentationNetwork("net", InputHeight = 65, InputWidth = 65)]
        public sealed partial class Net
        {
            [Conv(8, 3)] private readonly ConvBlock a;
            [Classifier] private readonly Conv2d classifier;
        }
        """);

    [Fact]
    public Task AddsPartial_ToAClassWithoutModifiers_KeepingItsComment() => Verify.VerifyAsync(
        """
        namespace T;
        [SegmentationNetwork("net", InputHeight = 65, InputWidth = 65)]
        /* the network */ class {|EMA0001:Net|}
        {
            [Conv(8, 3)] private readonly ConvBlock a;
            [Classifier] private readonly Conv2d classifier;
        }
        """,
        """
        namespace T;
        [SegmentationNetwork("net", InputHeight = 65, InputWidth = 65)]
        /* the network */ partial class Net
        {
            [Conv(8, 3)] private readonly ConvBlock a;
            [Classifier] private readonly Conv2d classifier;
        }
        """);

    /// <summary>Two networks in two files: FixAll (which the verifier runs in every scope) fixes both.</summary>
    [Fact]
    public Task FixesEveryNetwork() => Verify.VerifyAsync(
        new[]
        {
            """
            namespace T;
            [SegmentationNetwork("one", InputHeight = 65, InputWidth = 65)]
            public class {|EMA0001:One|}
            {
                [Classifier] private readonly Conv2d classifier;
            }
            """,
            """
            namespace T;
            [SegmentationNetwork("two", InputHeight = 65, InputWidth = 65)]
            internal class {|EMA0001:Two|}
            {
                [Classifier] private readonly Conv2d classifier;
            }
            """,
        },
        new[]
        {
            """
            namespace T;
            [SegmentationNetwork("one", InputHeight = 65, InputWidth = 65)]
            public partial class One
            {
                [Classifier] private readonly Conv2d classifier;
            }
            """,
            """
            namespace T;
            [SegmentationNetwork("two", InputHeight = 65, InputWidth = 65)]
            internal partial class Two
            {
                [Classifier] private readonly Conv2d classifier;
            }
            """,
        });

    [Fact]
    public void HasAnEquivalenceKeyAndFixAll()
    {
        var fix = new MakePartialCodeFix();
        Assert.Equal(new[] { "EMA0001" }, fix.FixableDiagnosticIds);
        Assert.NotNull(fix.GetFixAllProvider());
        Assert.Equal("EMA0001.MakePartial", MakePartialCodeFix.EquivalenceKey);
    }
}
