using EMANet.Models;
using EMANet.Runtime.Blocks;
using EMANet.Runtime.Networks;
using EMANet.Tests.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace EMANet.Tests.Networks;

/// <summary>What the runtime base class of generated networks gives every network.</summary>
public class SegmentationNetworkTests
{
    private static Tensor Input(long seed, int size = 33)
    {
        using var generator = new TorchSharp.torch.Generator((ulong)seed);   // not torch's global generator, which parallel tests seed
        return randn(new long[] { 1, 3, size, size }, generator: generator);
    }

    private static nn.Module<Tensor, Tensor> Child(nn.Module network, string name) =>
        network.named_children().Where(c => c.name == name).Select(c => c.module).OfType<nn.Module<Tensor, Tensor>>().Single();

    [Fact]
    public void Forward_does_not_run_the_auxiliary_head_and_ForwardTraining_runs_it_once()
    {
        using var network = new TinyAuxTestNet();
        int calls = 0;
        ((ConvBlock)Child(network, "aux_head")).register_forward_hook(_ => calls++);
        using var scope = NewDisposeScope();
        var x = Input(3);
        network.eval();
        using (no_grad())
        {
            var logits = network.forward(x);
            Assert.Equal(0, calls);
            Assert.Equal(new long[] { 1, 3, 33, 33 }, logits.shape);
            var (main, auxiliary) = network.ForwardTraining(x);
            Assert.Equal(1, calls);
            Assert.NotNull(auxiliary);
            Assert.Equal(new long[] { 1, 3, 33, 33 }, auxiliary!.shape);
            // One graph: in eval mode (no dropout, no EMA update) the main output is forward's.
            Assert.True(main.allclose(logits, rtol: 0, atol: 0), "ForwardTraining's main output differs from forward's");
        }
    }

    [Fact]
    public void A_network_without_an_auxiliary_head_gives_none_in_training()
    {
        using var network = new TinyTestNet();
        using var scope = NewDisposeScope();
        var (main, auxiliary) = network.ForwardTraining(Input(4));
        Assert.Null(auxiliary);
        Assert.Equal(new long[] { 1, 3, 33, 33 }, main.shape);
    }

    [Fact]
    public void EmaUnits_are_found_in_the_module_tree()
    {
        using var withUnit = new TinyTestNet();
        var unit = Assert.Single(withUnit.EmaUnits);
        Assert.Same(Child(withUnit, "emau"), unit);

        var noEma = NetworkCatalog.Find(NetworkCatalog.Discover(typeof(EmaNetR101).Assembly), "emanet-tiny-no-ema");
        using var without = noEma.Create();
        Assert.Empty(without.EmaUnits);
    }

    [Fact]
    public void The_catalogue_builds_the_network_as_its_base_class_with_the_types_facts()
    {
        var entry = NetworkCatalog.Find(NetworkCatalog.Discover(typeof(EmaNetR101).Assembly), "emanet-tiny");
        using SegmentationNetwork network = entry.Create(classes: 4, input: new TensorShape(3, 65, 65));
        Assert.IsType<EmaNetTiny>(network);
        Assert.Same(EmaNetTiny.Descriptor, network.Descriptor);
        Assert.Equal(4, network.Classes);
        Assert.Equal(new TensorShape(3, 65, 65), network.InputShape);
        Assert.Equal(8, network.OutputStride);
        Assert.Equal("emanet-tiny", network.GetName());
    }

    [Fact]
    public void Classes_the_declaration_cannot_take_are_refused_before_any_layer_is_built()
    {
        var error = Assert.Throws<ArgumentException>(() => new EmaNetTiny(classes: 0));
        Assert.Contains("network 'emanet-tiny' cannot be built", error.Message);
        Assert.Contains("Classes = 0 must be positive", error.Message);
    }

    [Fact]
    public void Fusing_fuses_every_fusable_child_and_leaves_no_batch_norm_key()
    {
        using var network = new TinyTestNet();
        network.FuseForInference();
        Assert.True(network.IsFusedForInference);
        Assert.All(network.named_children().Select(c => c.module).OfType<IFusableForInference>(), f => Assert.True(f.IsFusedForInference));
        Assert.DoesNotContain(network.state_dict().Keys, k => k.Contains(".bn") || k.Contains("running_mean"));
        network.train();
        using var scope = NewDisposeScope();
        var error = Assert.Throws<InvalidOperationException>(() => network.forward(Input(5)));
        Assert.Contains("tiny-test was fused for inference and is eval-only", error.Message);
        Assert.Throws<InvalidOperationException>(() => network.SetTrainingPrecision(TrainingPrecision.BFloat16Mixed));
    }
}
