using Verify = EMANet.Tests.Generator.CodeFixes.CodeFixVerifier<EMANet.Generator.CodeFixes.AppendUpsampleCodeFix>;

namespace EMANet.Tests.Generator.CodeFixes;

/// <summary>EMA0015: "append [Upsample(SizeOf = "input")]" after the layer that is the network's output.</summary>
public class AppendUpsampleCodeFixTests
{
    [Fact]
    public Task AppendsTheResize_AfterTheClassifier() => Verify.VerifyAsync(
        """
        namespace T;
        [SegmentationNetwork("net", InputHeight = 65, InputWidth = 65)]
        public partial class Net
        {
            [Conv(8, 3, Stride = 2)] private readonly ConvBlock a;
            [{|EMA0015:Classifier|}] private readonly Conv2d classifier;
        }
        """,
        """
        namespace T;
        [SegmentationNetwork("net", InputHeight = 65, InputWidth = 65)]
        public partial class Net
        {
            [Conv(8, 3, Stride = 2)] private readonly ConvBlock a;
            [Classifier] private readonly Conv2d classifier;
            [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
        }
        """);

    /// <summary>An auxiliary head after the main output stays after it: the resize goes right after the main classifier.</summary>
    [Fact]
    public Task GoesBeforeAnAuxiliaryHead_AndTakesAFreeName() => Verify.VerifyAsync(
        """
        namespace T;
        [SegmentationNetwork("net", InputHeight = 65, InputWidth = 65)]
        public partial class Net
        {
            private readonly int upsample = 0;
            [Conv(8, 3, Stride = 2)] private readonly ConvBlock a;
            [{|EMA0015:Classifier|}] private readonly Conv2d classifier;
            [Classifier(From = "a", Auxiliary = true)] private readonly Conv2d aux;
        }
        """,
        """
        namespace T;
        [SegmentationNetwork("net", InputHeight = 65, InputWidth = 65)]
        public partial class Net
        {
            private readonly int upsample = 0;
            [Conv(8, 3, Stride = 2)] private readonly ConvBlock a;
            [Classifier] private readonly Conv2d classifier;
            [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample2;
            [Classifier(From = "a", Auxiliary = true)] private readonly Conv2d aux;
        }
        """);

    /// <summary>Without the runtime's namespaces imported, the new field names its types in full.</summary>
    [Fact]
    public Task WritesTheTypesAsTheyBind() => Verify.VerifyWithoutUsingsAsync(
        """
        namespace T;
        [EMANet.SegmentationNetwork("net", InputHeight = 65, InputWidth = 65)]
        public partial class Plain
        {
            [EMANet.Conv(8, 3, Stride = 2)] private readonly EMANet.Runtime.Blocks.ConvBlock a;
            [{|EMA0015:EMANet.Classifier|}] private readonly EMANet.Runtime.Blocks.Conv2d classifier;
        }
        """,
        """
        namespace T;
        [EMANet.SegmentationNetwork("net", InputHeight = 65, InputWidth = 65)]
        public partial class Plain
        {
            [EMANet.Conv(8, 3, Stride = 2)] private readonly EMANet.Runtime.Blocks.ConvBlock a;
            [EMANet.Classifier] private readonly EMANet.Runtime.Blocks.Conv2d classifier;
            [EMANet.Upsample(SizeOf = "input")] private readonly EMANet.Runtime.Blocks.BilinearUpsample upsample;
        }
        """);

    /// <summary>The output is an [Upsample] already, at the wrong scale: a second resize would hide that one; no fix.</summary>
    [Fact]
    public Task NotOffered_WhenTheOutputIsAnUpsampleAlready() => Verify.VerifyNotOfferedAsync(
        """
        namespace T;
        [SegmentationNetwork("net", InputHeight = 65, InputWidth = 65)]
        public partial class Net
        {
            [Conv(8, 3, Stride = 2)] private readonly ConvBlock a;
            [Classifier] private readonly Conv2d classifier;
            [{|EMA0015:Upsample(Scale = 1.5)|}] private readonly BilinearUpsample upsample;
        }
        """);
}
