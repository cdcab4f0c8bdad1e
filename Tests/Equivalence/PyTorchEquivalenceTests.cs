using EMANet.Runtime.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace EMANet.Tests.Equivalence;

/// <summary>
/// Generated networks loaded with PyTorch-written weights (random weights, BN statistics and EMA
/// bases; tools/fixtures/make_fixtures.py) reproduce PyTorch's eval-mode outputs within 1e-4
/// relative error, from both .pth and .safetensors.
/// </summary>
public class PyTorchEquivalenceTests
{
    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    private static void AssertClose(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        double scale = expected.abs().max().item<float>();
        double error = (actual - expected).abs().max().item<float>();
        Assert.True(error <= 1e-4 * scale, $"max abs error {error:E3} over max |expected| {scale:E3} (relative {error / scale:E3})");
    }

    private static Tensor RunNetwork(nn.Module<Tensor, Tensor> network, string weights, string input)
    {
        using var tensors = WeightsFile.Read(Fixture(weights));
        var report = StateDictLoader.Load(network, tensors, WeightsLayout.Auto, strict: true);
        Assert.Empty(report.Missing);
        network.eval();
        using var _ = no_grad();
        return network.forward(NpyFile.Read(Fixture(input)));
    }

    [Theory]
    [InlineData("ema_head.pth")]
    [InlineData("ema_head.safetensors")]
    public void EmaHead_MatchesPyTorch(string weights)
    {
        using var network = new FixtureEmaHead();
        var output = RunNetwork(network, weights, "ema_head_input.npy");
        AssertClose(NpyFile.Read(Fixture("ema_head_output.npy")), output);
    }

    [Theory]
    [InlineData("emanet_small.pth")]
    [InlineData("emanet_small.safetensors")]
    public void WholeSmallEmaNet_MatchesPyTorch(string weights)
    {
        using var network = new FixtureEmaNetSmall();
        var output = RunNetwork(network, weights, "emanet_small_input.npy");
        AssertClose(NpyFile.Read(Fixture("emanet_small_output.npy")), output);
    }

    [Fact]
    public void DeepLabV3PlusHeads_AsppAndDecoder_MatchPyTorch()
    {
        using var network = new FixtureDeepLabV3PlusSmall();
        var output = RunNetwork(network, "deeplabv3plus_small.pth", "deeplabv3plus_small_input.npy");
        AssertClose(NpyFile.Read(Fixture("deeplabv3plus_small_output.npy")), output);
    }

    [Fact]
    public void FcnHead_MatchesPyTorch()
    {
        using var network = new FixtureFcnSmall();
        var output = RunNetwork(network, "fcn_small.pth", "fcn_small_input.npy");
        AssertClose(NpyFile.Read(Fixture("fcn_small_output.npy")), output);
    }

    [Theory]
    [InlineData("torchvision_resnet18.pth")]
    [InlineData("torchvision_resnet18.safetensors")]
    public void TorchVisionResNetCheckpoint_IntoA7x7StemBackbone_MatchesPyTorch(string weights)
    {
        using var network = new FixtureTorchVisionResNet18();
        using var tensors = WeightsFile.Read(Fixture(weights));
        var report = StateDictLoader.Load(network, tensors, WeightsLayout.TorchVisionResNet, strict: true);
        Assert.Contains(report.Ignored, k => k.StartsWith("fc.", StringComparison.Ordinal));
        network.eval();
        using var _ = no_grad();
        var features = network.backbone.forward(NpyFile.Read(Fixture("torchvision_resnet18_input.npy")));
        AssertClose(NpyFile.Read(Fixture("torchvision_resnet18_output.npy")), features);
    }
}
