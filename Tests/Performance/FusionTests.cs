using EMANet.Models;
using EMANet.Runtime.Blocks;
using EMANet.Runtime.Networks;
using TorchSharp;
using TorchSharp.Modules;
using EMANet.Tests.Training;
using static TorchSharp.torch;
using BatchNorm2d = EMANet.Runtime.Blocks.BatchNorm2d;

namespace EMANet.Tests.Performance;

/// <summary>
/// The inference path: batch norms folded into the convolutions must not change the logits
/// (random weights, random BN statistics and affine parameters, eval mode).
/// The weights come from module initialisation, which draws from torch's global generator: hence the collection.
/// </summary>
[Collection(nameof(TorchGlobalState))]
public class FusionTests
{
    private const double Tolerance = 1e-4;

    /// <summary>Random running statistics and affine parameters in every BatchNorm, so folding is not an identity.</summary>
    internal static void RandomizeBatchNorms(nn.Module module, ulong seed)
    {
        using var _ = no_grad();
        using var generator = new torch.Generator(seed);
        foreach (var (_, child) in module.named_modules())
        {
            if (child is not BatchNorm2d bn) continue;
            bn.running_mean!.normal_(0, 0.2, generator);
            bn.running_var!.uniform_(0.5, 1.5, generator);
            bn.weight!.uniform_(0.5, 1.5, generator);
            bn.bias!.normal_(0, 0.2, generator);
        }
    }

    private static Tensor Input(ulong seed, params long[] shape)
    {
        using var generator = new torch.Generator(seed);
        return randn(shape, generator: generator);
    }

    private static double RelativeError(Tensor actual, Tensor expected) =>
        (actual.to(float64) - expected.to(float64)).abs().max().item<double>() / expected.to(float64).abs().max().item<double>();

    private static (Tensor Unfused, Tensor Fused) UnfusedThenFused(SegmentationNetwork network, Tensor input)
    {
        network.eval();
        Tensor unfused;
        using (no_grad()) unfused = network.forward(input);
        network.FuseForInference();
        var fused = network.forward(input);
        return (unfused, fused);
    }

    [Theory]
    [InlineData("emanet-tiny")]
    [InlineData("deeplabv3plus-tiny")]
    public void FusedNetwork_MatchesUnfused_WithRandomBatchNormStatistics(string name)
    {
        TorchGlobalState.Seed(11);
        var entry = NetworkCatalog.Find(NetworkCatalog.Discover(typeof(EmaNetTiny).Assembly), name);
        using var network = entry.Create();
        RandomizeBatchNorms(network, 11);
        using var scope = NewDisposeScope();
        var shape = entry.Descriptor.InputShape;
        var input = Input(11, 2, shape.Channels, shape.Height, shape.Width);
        var (unfused, fused) = UnfusedThenFused(network, input);
        Assert.Equal(unfused.shape, fused.shape);
        var error = RelativeError(fused, unfused);
        Assert.True(error < Tolerance, $"{name}: relative error {error:E3}");
    }

    [Fact]
    public void FusedNetwork_DropsBatchNormKeys_AndGivesConvolutionsABias()
    {
        using var network = new EmaNetTiny();   // only names are checked: any initialisation will do
        var before = network.state_dict().Keys.ToHashSet();
        Assert.Contains("emau.conv2.1.running_var", before);
        network.FuseForInference();
        var after = network.state_dict().Keys.ToList();
        Assert.True(network.IsFusedForInference);
        Assert.DoesNotContain(after, k => k.Contains("running_") || k.Contains("num_batches_tracked"));
        Assert.DoesNotContain(after, k => k.StartsWith("backbone.bn1") || k.StartsWith("fc0.bn") || k.StartsWith("emau.conv2.1"));
        Assert.Contains("backbone.conv1.6.bias", after);            // bn1 folded into the deep stem's last conv
        Assert.Contains("backbone.layer2.0.downsample.0.bias", after);
        Assert.Contains("emau.conv2.0.bias", after);
        Assert.Contains("fc0.conv.bias", after);
        Assert.Contains("emau.mu", after);
        // The kept keys keep their order relative to each other.
        var kept = before.Intersect(after).ToList();
        Assert.Equal(network.state_dict().Keys.Where(before.Contains), kept.OrderBy(k => after.IndexOf(k)));
    }

    [Fact]
    public void FusedNetwork_RefusesTrainingForward_AndFusingTwiceIsANoOp()
    {
        using var network = new EmaNetTiny();
        network.FuseForInference();
        network.FuseForInference();
        network.train();
        using var scope = NewDisposeScope();
        var input = Input(1, 1, 3, 65, 65);
        Assert.Throws<InvalidOperationException>(() => network.forward(input));
        Assert.Throws<InvalidOperationException>(() => network.ForwardTraining(input));
        network.eval();
        Assert.Equal(new long[] { 1, 21, 65, 65 }, network.forward(input).shape);
    }

    [Fact]
    public void FusedForward_BuildsNoAutogradGraph()
    {
        using var network = new EmaNetTiny();
        network.FuseForInference();
        using var scope = NewDisposeScope();
        var y = network.forward(Input(2, 1, 3, 65, 65));
        Assert.False(y.requires_grad);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void FusedAspp_MatchesUnfused_WithAndWithoutImagePooling(bool imagePooling)
    {
        TorchGlobalState.Seed(5);
        using var aspp = new Aspp(16, outChannels: 8, rates: [1, 2], imagePooling: imagePooling, dropout: 0.1);
        RandomizeBatchNorms(aspp, 5);
        aspp.eval();
        using var scope = NewDisposeScope();
        var input = Input(5, 2, 16, 9, 11);
        Tensor expected;
        using (no_grad()) expected = aspp.forward(input);
        aspp.FuseForInference();
        var actual = aspp.forward(input);
        Assert.True(RelativeError(actual, expected) < Tolerance);
        Assert.DoesNotContain(aspp.state_dict().Keys, k => k.Contains("running_"));
    }

    [Fact]
    public void FoldBatchNorm_IsTheFormula()
    {
        TorchGlobalState.Seed(9);
        using var conv = new Conv2d(4, 6, 3, padding: 1, bias: true);
        using var bn = new BatchNorm2d(6, eps: 1e-3);
        RandomizeBatchNorms(bn, 9);
        bn.eval();
        using var scope = NewDisposeScope();
        var input = Input(9, 1, 4, 5, 5);
        Tensor expected;
        using (no_grad()) expected = bn.forward(conv.forward(input));
        var w = conv.weight.clone();
        var b = conv.bias!.clone();
        var s = bn.weight! / (bn.running_var! + 1e-3).sqrt();
        Fusion.FoldBatchNorm(conv, bn);
        Assert.True(allclose(conv.weight, w * s.view(-1, 1, 1, 1), rtol: 1e-5, atol: 1e-6));
        Assert.True(allclose(conv.bias!, (b - bn.running_mean!) * s + bn.bias!, rtol: 1e-5, atol: 1e-6));
        using (no_grad()) Assert.True(RelativeError(conv.forward(input), expected) < Tolerance);
    }

    [Fact]
    public void BFloat16Inference_GivesFloat32LogitsCloseToFloat32()
    {
        TorchGlobalState.Seed(13);
        using var network = new EmaNetTiny();
        network.FuseForInference();
        using var scope = NewDisposeScope();
        var input = Input(13, 1, 3, 65, 65);
        var reference = network.Predict(input);
        network.ForInference(InferencePrecision.BFloat16);
        Assert.Equal(ScalarType.BFloat16, network.EmaUnits[0].BasesBuffer.dtype);
        var logits = network.Predict(input);
        Assert.Equal(ScalarType.Float32, logits.dtype);
        Assert.Equal(reference.shape, logits.shape);
        // bf16 keeps 8 bits of mantissa: a few percent of the logit range, not more.
        Assert.True(RelativeError(logits, reference) < 0.1, $"relative error {RelativeError(logits, reference):E3}");
    }

    [Fact]
    public void ChannelsLastWeights_GiveTheSameLogits()
    {
        TorchGlobalState.Seed(17);
        using var network = new EmaNetTiny();
        RandomizeBatchNorms(network, 17);
        network.FuseForInference();
        using var scope = NewDisposeScope();
        var input = Input(17, 1, 3, 65, 65);
        var reference = network.Predict(input);
        network.ToChannelsLast();
        var fc0Weight = network.state_dict()["fc0.conv.weight"];
        Assert.Equal(1, fc0Weight.stride(1));                        // NHWC strides, NCHW shape
        var logits = network.Predict(input);
        Assert.True(logits.is_contiguous());
        Assert.True(RelativeError(logits, reference) < 1e-5, $"relative error {RelativeError(logits, reference):E3}");
    }
}
