using EMANet.Models;
using EMANet.Runtime.Networks;
using EMANet.Runtime.Training;
using EMANet.Runtime.Workflows;
using static TorchSharp.torch;

namespace EMANet.Tests.Training;

/// <summary>Weights trained at output stride 16 evaluated at 8: a checkpoint of one network loaded into a sibling with the same parameters.</summary>
[Collection(nameof(TorchGlobalState))]
public class SiblingWeightsTests : IDisposable
{
    private readonly TempFolders _temp = new();

    public void Dispose() => _temp.Dispose();

    private static readonly IReadOnlyList<NetworkEntry> TestNetworks = NetworkCatalog.Discover(typeof(TinyTestNet).Assembly);

    /// <summary>A two-step checkpoint of tiny-test-os16 (weights and bases moved away from their initialisation).</summary>
    private string Os16Checkpoint()
    {
        var folder = _temp.New("os16");
        TorchGlobalState.Seed(61);
        using var network = new TinyTestNetOs16();
        using var trainer = new Trainer(network, SyntheticData.Options(2), SyntheticData.Source(8), folder);
        Assert.True(trainer.Train().Completed);
        return Path.Combine(folder, Trainer.CheckpointFileName);
    }

    [Fact]
    public void A_checkpoint_of_the_os16_sibling_loads_into_the_os8_network_and_says_so()
    {
        var checkpoint = Os16Checkpoint();
        TorchGlobalState.Seed(62);
        using var trainedAs = new TinyTestNetOs16();
        TrainingCheckpoint.Load(checkpoint).RestoreModel(trainedAs);

        var logged = new List<string>();
        using var loaded = TrainedNetwork.Load(NetworkCatalog.Find(TestNetworks, "tiny-test"), checkpoint, log: logged.Add);
        Assert.IsType<TinyTestNet>(loaded);
        Assert.Equal(8, loaded.OutputStride);
        Assert.Equal("weights of tiny-test-os16 loaded into tiny-test: same parameter names and shapes", logged[^1]);
        Assert.Equal(3, logged.Count);   // where the classes came from, the checkpoint's own summary, then the sibling line
        Assert.Equal("classes: 3 (from the checkpoint)", logged[0]);

        var expected = trainedAs.state_dict();
        var actual = loaded.state_dict();
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, tensor) in expected)
        {
            Assert.Equal(tensor.shape, actual[name].shape);
            Assert.True(tensor.eq(actual[name]).all().item<bool>(), $"{name} differs from the checkpoint's");
        }

        // The same weights, another output stride: the OS 8 network computes a different function of the image.
        using var scope = NewDisposeScope();
        var (image, _) = SyntheticData.Batch(9, 0, 1);
        trainedAs.eval();
        loaded.eval();
        using var noGrad = no_grad();
        Assert.False(allclose(trainedAs.forward(image), loaded.forward(image), rtol: 1e-3, atol: 1e-4));
    }

    [Theory]
    [InlineData("tiny-aux-test")]   // other parameter names (an auxiliary head, no fc1)
    [InlineData("emanet-tiny")]     // other shapes (a quarter of the width, not an eighth)
    public void A_checkpoint_of_a_network_with_other_parameters_is_refused_naming_both(string target)
    {
        var checkpoint = Os16Checkpoint();
        var entry = NetworkCatalog.Find(NetworkCatalog.Discover(typeof(TinyTestNet).Assembly, typeof(EmaNetTiny).Assembly), target);
        var logged = new List<string>();
        var error = Assert.Throws<CheckpointException>(() => TrainedNetwork.Load(entry, checkpoint, log: logged.Add));
        Assert.Contains(checkpoint, error.Message);
        Assert.Contains($"a checkpoint of 'tiny-test-os16' loads into '{target}' only when both have the same parameter names and shapes: ", error.Message);
        Assert.Equal(["classes: 3 (from the checkpoint)"], logged);   // no load summary: nothing was loaded
    }
}
