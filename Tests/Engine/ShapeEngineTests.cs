using EMANet.Engine;
using EMANet.Models;
using EMANet.Runtime.Networks;

namespace EMANet.Tests.Engine;

public class ShapeEngineTests
{
    [Theory]
    [InlineData(8, 65)]
    [InlineData(16, 33)]
    [InlineData(32, 17)]
    public void OutputStride_GivesSpecSizes(int outputStride, int expected)
    {
        var declaration = EmaNetR101.Declaration with
        {
            Layers = new EquatableArray<LayerDeclaration>(new[] { EmaNetR101.Declaration.Layers[0] with { OutputStride = outputStride } }),
        };
        var analysis = ShapeEngine.Analyze(declaration);
        var backbone = analysis.Outputs.Single(o => o.Name == "backbone");
        Assert.Equal(new FeatureShape(2048, expected, expected), backbone.Shape);
    }

    [Fact]
    public void DilationSchedule_FollowsSpec()
    {
        var os8 = ResNetPlan.Create(101, ResNetStem.Deep, 8, 1.0, new[] { 1, 2, 4 });
        Assert.Equal(new[] { 1, 2, 2 }, os8.Stages[2].Blocks.Take(3).Select(b => b.Dilation));
        Assert.All(os8.Stages[2].Blocks.Skip(1), b => Assert.Equal(2, b.Dilation));
        Assert.Equal(new[] { 2, 8, 16 }, os8.Stages[3].Blocks.Select(b => b.Dilation));
        Assert.Equal(new[] { 1, 2, 1, 1 }, os8.Stages.Select(s => s.Blocks[0].Stride));
        var os16 = ResNetPlan.Create(101, ResNetStem.Deep, 16, 1.0, new[] { 1, 2, 4 });
        Assert.All(os16.Stages[2].Blocks, b => Assert.Equal(1, b.Dilation));
        Assert.Equal(new[] { 1, 4, 8 }, os16.Stages[3].Blocks.Select(b => b.Dilation));
        Assert.Equal(2, os16.Stages[2].Blocks[0].Stride);
    }

    [Fact]
    public void GeneratedConstants_EqualRuntimeAnalysis()
    {
        // The constants are the compiler's sums; the cost table is the runtime engine's (Descriptor.CostTable): both from one engine source.
        foreach (var entry in NetworkCatalog.Discover(typeof(EmaNetR101).Assembly))
        {
            var analysis = entry.Descriptor.Analyze();
            Assert.Equal(analysis.Layers.ToArray(), entry.Descriptor.CostTable.ToArray());
            Assert.Equal(analysis.Parameters, entry.Descriptor.ParameterCount);
            Assert.Equal(analysis.Flops, entry.Descriptor.Flops);
            Assert.Equal(analysis.Macs, entry.Descriptor.MultiplyAccumulates);
            Assert.Equal(analysis.MemoryBytes, entry.Descriptor.ActivationBytes);
        }
    }

    [Fact]
    public void OtherInputSize_ScalesConvolutionCosts()
    {
        // At 257x257 (OS 8 -> 33x33) fc0 costs 9*2048*512*33*33 MACs.
        var analysis = EmaNetR101.Descriptor.Analyze(new TensorShape(3, 257, 257));
        Assert.False(analysis.HasErrors);
        Assert.Equal(9L * 2048 * 512 * 33 * 33, analysis.Under("fc0").Single(r => r.Kind == "Conv2d").Macs);
        Assert.Equal(new FeatureShape(21, 257, 257), analysis.Output);
    }

    [Fact]
    public void Catalogue_ListsEveryDeclaredNetwork()
    {
        var names = NetworkCatalog.Discover(typeof(EmaNetR101).Assembly).Select(e => e.Name).ToArray();
        Assert.Equal(new[]
        {
            "deeplabv3-r101", "deeplabv3-tiny", "deeplabv3plus-r101", "deeplabv3plus-tiny", "emanet-r101", "emanet-r101-c256", "emanet-r101-os16", "emanet-r152", "emanet-r152-os16",
            "emanet-r50", "emanet-r50-os16", "emanet-tiny", "emanet-tiny-no-ema", "fcn-r101", "fcn-tiny", "mmseg-emanet-r101-d8", "mmseg-emanet-r50-d8",
        }, names);
        Assert.All(NetworkCatalog.Discover(typeof(EmaNetR101).Assembly), e => Assert.True(e.Descriptor.ParameterCount > 0));
    }
}
