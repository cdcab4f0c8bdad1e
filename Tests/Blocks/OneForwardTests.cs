using EMANet.Models;
using EMANet.Runtime.Blocks;
using EMANet.Runtime.Networks;
using EMANet.Tests.Performance;
using EMANet.Tests.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace EMANet.Tests.Blocks;

/// <summary>
/// Fusion is a rewrite of the module tree and every block has one forward: the fused network runs
/// the same code (so whatever that code records, such as the EMA unit's attention maps, is
/// recorded on both paths), and child modules are called so that their forward hooks fire.
/// </summary>
[Collection(nameof(TorchGlobalState))]   // builds networks from torch's process-wide generator
public class OneForwardTests
{
    [Fact]
    public void A_fused_network_records_the_attention_maps_as_the_unfused_one_does()
    {
        static (Tensor Maps, (int, int) Size) Attention(bool fuse)
        {
            TorchGlobalState.Seed(21);                      // the same weights and statistics for both networks
            using var network = new EmaNetTiny(5, new TensorShape(3, 65, 65));
            FusionTests.RandomizeBatchNorms(network, 21);
            network.eval();
            if (fuse) network.FuseForInference();
            var unit = network.EmaUnits[0];
            unit.CaptureResponsibilities = true;
            using (NewDisposeScope()) network.Predict(randn(1, 3, 65, 65));
            return (unit.LastResponsibilities!.clone(), unit.LastFeatureSize);
        }

        var (unfused, unfusedSize) = Attention(fuse: false);
        var (fused, fusedSize) = Attention(fuse: true);

        Assert.Equal((9, 9), unfusedSize);             // 65 / 8 rounded up
        Assert.Equal(unfusedSize, fusedSize);
        Assert.Equal(unfused.shape, fused.shape);       // 1 x 81 x 16
        Assert.True(allclose(fused, unfused, rtol: 1e-4, atol: 1e-5));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Forward_hooks_fire_on_every_convolution_fused_or_not(bool fused)
    {
        TorchGlobalState.Seed(22);
        using var network = new EmaNetTiny(3, new TensorShape(3, 33, 33));
        network.eval();
        if (fused) network.FuseForInference();
        var convolutions = network.modules().OfType<Conv2d>().ToList();
        var called = new List<Conv2d>();
        var removers = convolutions.Select(c => c.register_forward_hook((module, _, output) =>
        {
            called.Add((Conv2d)module);
            return output;
        })).ToList();
        bool networkHookFired = false;
        var networkHook = network.register_forward_hook((_, _, output) =>
        {
            networkHookFired = true;
            return output;
        });
        using var scope = NewDisposeScope();
        network.Predict(randn(1, 3, 33, 33));
        foreach (var remover in removers) remover.remove();
        networkHook.remove();

        Assert.True(networkHookFired, "Predict calls the network through call()");
        Assert.Equal(convolutions.Count, called.Count);
        Assert.Equal(convolutions.ToHashSet(), called.ToHashSet());
    }

    [Fact]
    public void Fusion_removes_every_batch_norm_and_dropout_from_the_module_tree()
    {
        TorchGlobalState.Seed(23);
        using var network = new DeepLabV3PlusTiny();
        static bool Removable(nn.Module m) => m.GetType().Name is "BatchNorm2d" or "Dropout" or "Dropout2d";
        Assert.Contains(network.modules(), Removable);
        network.FuseForInference();
        Assert.DoesNotContain(network.modules(), Removable);
    }

    [Fact]
    public void Mixed_precision_is_a_setting_of_each_convolution()
    {
        TorchGlobalState.Seed(24);
        using var network = new DeepLabV3PlusTiny();
        network.SetTrainingPrecision(TrainingPrecision.BFloat16Mixed);
        var convolutions = network.modules().OfType<Conv2d>().ToList();
        Assert.Equal(DeepLabV3PlusTiny.Descriptor.CostTable.Count(r => r.Kind == "Conv2d"), convolutions.Count);
        Assert.All(convolutions, c => Assert.Equal(ScalarType.BFloat16, c.ComputeDtype));
        // No module other than a convolution holds a precision: the blocks' forwards know nothing of it.
        Assert.DoesNotContain(typeof(FusableBlock).GetProperties(), p => p.PropertyType == typeof(ScalarType?));
    }
}
