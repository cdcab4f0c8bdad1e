using EMANet.Engine;
using EMANet.Models;
using EMANet.Runtime.Evaluation;
using EMANet.Runtime.Networks;
using EMANet.Tests.Equivalence;
using static TorchSharp.torch;

namespace EMANet.Tests.Engine;

/// <summary>The ResNet options mmsegmentation's backbones need (StemWidths, ContractDilation, no multi-grid), in the plan, the engine and the module.</summary>
public class ResNetOptionsTests
{
    [Fact]
    public void MMSegSchedule_ContractedDilationWithoutMultiGrid_IsResNetV1cs()
    {
        // mmseg's ResLayer with dilations (1, 1, 2, 4), contract_dilation=True, no multi_grid: layer3 1,2,2,2,2,2; layer4 2,4,4.
        var plan = ResNetPlan.Create(50, ResNetStem.Deep, 8, 1.0, Array.Empty<int>(), new[] { 32, 32, 64 }, contractDilation: true);
        Assert.Equal(new[] { 1, 1, 1 }, plan.Stages[0].Blocks.Select(b => b.Dilation));
        Assert.Equal(new[] { 1, 2, 2, 2, 2, 2 }, plan.Stages[2].Blocks.Select(b => b.Dilation));
        Assert.Equal(new[] { 2, 4, 4 }, plan.Stages[3].Blocks.Select(b => b.Dilation));
        Assert.Equal(new[] { 32, 32, 64 }, plan.StemWidths);
        Assert.Equal(64, plan.Stages[0].Blocks[0].InChannels);
        Assert.True(plan.Stages[0].Blocks[0].Downsample);
    }

    [Fact]
    public void WithoutContraction_TheFirstBlockOfADilatedStageUsesTheStageDilation()
    {
        var plan = ResNetPlan.Create(50, ResNetStem.Deep, 8, 1.0, Array.Empty<int>(), contractDilation: false);
        Assert.Equal(new[] { 2, 2, 2, 2, 2, 2 }, plan.Stages[2].Blocks.Select(b => b.Dilation));
        Assert.Equal(new[] { 4, 4, 4 }, plan.Stages[3].Blocks.Select(b => b.Dilation));
        var os16 = ResNetPlan.Create(50, ResNetStem.Deep, 16, 1.0, Array.Empty<int>(), contractDilation: false);
        Assert.All(os16.Stages[2].Blocks, b => Assert.Equal(1, b.Dilation));
        Assert.Equal(new[] { 2, 2, 2 }, os16.Stages[3].Blocks.Select(b => b.Dilation));
    }

    [Fact]
    public void StemWidths_SetTheStemChannels_AndTheParameterCount()
    {
        // mmseg-emanet-r50-d8's stem: 3x3 3->32, 32->32, 32->64 with three BNs, against the default 3->64->64->128.
        var layer = MmsegEmaNetR50D8.Declaration.Layers[0];
        var analysis = ShapeEngine.Analyze(MmsegEmaNetR50D8.Declaration);
        Assert.False(analysis.HasErrors);
        long stem = analysis.Under("backbone.conv1").Sum(r => r.Parameters) + analysis.Under("backbone.bn1").Sum(r => r.Parameters);
        Assert.Equal(9L * 3 * 32 + 2 * 32 + 9L * 32 * 32 + 2 * 32 + 9L * 32 * 64 + 2 * 64, stem);
        Assert.Equal(new FeatureShape(64, 128, 256), analysis.Outputs.Single(o => o.Name == "backbone.stem").Shape);
        var defaults = ShapeEngine.Analyze(MmsegEmaNetR50D8.Declaration with
        {
            Layers = new EquatableArray<LayerDeclaration>(MmsegEmaNetR50D8.Declaration.Layers.Select((l, i) => i == 0 ? l with { StemWidths = EquatableArray<int>.Empty } : l).ToArray()),
        });
        Assert.Equal(new FeatureShape(128, 128, 256), defaults.Outputs.Single(o => o.Name == "backbone.stem").Shape);
        Assert.Equal(new[] { 32, 32, 64 }, layer.StemWidths);
    }

    [Fact]
    public void RuntimeResNet_BuildsTheDeclaredStemWidths_AndRefusesAWrongCount()
    {
        using var backbone = new EMANet.Runtime.Blocks.ResNet(50, ResNetStem.Deep, 8, 0.125, [], stemWidths: [8, 8, 16]);
        var state = backbone.state_dict();
        Assert.Equal(new long[] { 8, 3, 3, 3 }, state["conv1.0.weight"].shape);
        Assert.Equal(new long[] { 16, 8, 3, 3 }, state["conv1.6.weight"].shape);
        Assert.Equal(new long[] { 16 }, state["bn1.weight"].shape);
        Assert.Equal(new long[] { 32, 16, 1, 1 }, state["layer1.0.downsample.0.weight"].shape);
        var error = Assert.Throws<ArgumentException>(() => new EMANet.Runtime.Blocks.ResNet(50, ResNetStem.TorchVision, stemWidths: [8, 8, 16]));
        Assert.Contains("stemWidths has 3 values", error.Message);
    }

    [Fact]
    public void MMSegNetworks_ParameterCounts()
    {
        // The PyTorch fixture network (make_mmseg_fixture.py, mmseg_emanet_small: 520,926 values) minus BN running
        // statistics and counters: every parameter and the bases of the declared twin.
        using var network = new FixtureMmsegEmaNetSmall();
        long tensors = network.state_dict().Where(p => !p.Key.EndsWith("num_batches_tracked", StringComparison.Ordinal)).Sum(p => p.Value.numel());
        long statistics = network.state_dict().Where(p => p.Key.EndsWith("running_mean", StringComparison.Ordinal) || p.Key.EndsWith("running_var", StringComparison.Ordinal)).Sum(p => p.Value.numel());
        long counters = network.state_dict().Count(p => p.Key.EndsWith("num_batches_tracked", StringComparison.Ordinal));
        Assert.Equal(520_926, tensors + counters);
        // ParameterCount is the inference path's: the auxiliary head (3x3 128->16, its BN, 1x1 16->5 with bias) is left out.
        long auxiliary = network.named_parameters().Where(p => p.name.StartsWith("auxiliary_", StringComparison.Ordinal)).Sum(p => p.parameter.numel());
        Assert.Equal(9 * 128 * 16 + 2 * 16 + 16 * 5 + 5, auxiliary);
        Assert.Equal(FixtureMmsegEmaNetSmall.ParameterCount, tensors - statistics - auxiliary);
    }

    [Fact]
    public void WholeImageInference_OfAnAlignCornersFalseNetwork_IsUnpadded_OthersPadToStrideNPlusOne()
    {
        using var mmseg = new FixtureMmsegEmaNetSmall();
        var unpadded = WholeImageInference.For(mmseg);
        Assert.Equal(64, unpadded.PaddedSize(64));
        Assert.Equal(63, unpadded.PaddedSize(63));
        using var authors = new FixtureEmaNetSmall();
        Assert.Equal(65, WholeImageInference.For(authors).PaddedSize(64));
    }
}
