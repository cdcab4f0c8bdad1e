using Verify = EMANet.Tests.Generator.CodeFixes.CodeFixVerifier<EMANet.Generator.CodeFixes.FieldTypeCodeFix>;

namespace EMANet.Tests.Generator.CodeFixes;

/// <summary>EMA0002: "change a field to the type its attribute needs".</summary>
public class FieldTypeCodeFixTests
{
    [Fact]
    public Task AConvOnAnEmaUnitField_BecomesAConvBlock() => Verify.VerifyAsync(
        """
        namespace T;
        [SegmentationNetwork("net", InputHeight = 65, InputWidth = 65)]
        public partial class Net
        {
            [Conv(8, 3)] private readonly {|EMA0002:EmaUnit|} a;
            [Classifier] private readonly Conv2d classifier;
        }
        """,
        """
        namespace T;
        [SegmentationNetwork("net", InputHeight = 65, InputWidth = 65)]
        public partial class Net
        {
            [Conv(8, 3)] private readonly ConvBlock a;
            [Classifier] private readonly Conv2d classifier;
        }
        """);

    /// <summary>TorchSharp's Conv2d for a [Classifier] becomes the project's (same simple name: written as it binds here, through the alias).</summary>
    [Fact]
    public Task TorchSharpsConv2d_BecomesTheProjects() => Verify.VerifyAsync(
        """
        namespace T;
        [SegmentationNetwork("net", InputHeight = 65, InputWidth = 65)]
        public partial class Net
        {
            [Conv(8, 3)] private readonly ConvBlock a;
            [Classifier] private readonly {|EMA0002:TorchSharp.Modules.Conv2d|} classifier;
        }
        """,
        """
        namespace T;
        [SegmentationNetwork("net", InputHeight = 65, InputWidth = 65)]
        public partial class Net
        {
            [Conv(8, 3)] private readonly ConvBlock a;
            [Classifier] private readonly Conv2d classifier;
        }
        """);

    /// <summary>A [ConvBnRelu] on a bare Conv2d needs a ConvBlock; a nullable field stays nullable; FixAll fixes both.</summary>
    [Fact]
    public Task ABareConv2dWithNormAndRelu_BecomesAConvBlock_KeepingNullability() => Verify.VerifyAsync(
        """
        #nullable enable
        namespace T;
        [SegmentationNetwork("net", InputHeight = 65, InputWidth = 65)]
        public partial class Net
        {
            [ConvBnRelu(8, 3)] private readonly {|EMA0002:Conv2d?|} a;
            [Dropout(0.1)] private readonly {|EMA0002:ReLU|} drop;
            [Classifier] private readonly Conv2d classifier;
        }
        """,
        """
        #nullable enable
        namespace T;
        [SegmentationNetwork("net", InputHeight = 65, InputWidth = 65)]
        public partial class Net
        {
            [ConvBnRelu(8, 3)] private readonly ConvBlock? a;
            [Dropout(0.1)] private readonly Dropout2d drop;
            [Classifier] private readonly Conv2d classifier;
        }
        """);
}
