using EMANet.Runtime.Training;
using static TorchSharp.torch;

namespace EMANet.Tests.Training;

[Collection(nameof(TorchGlobalState))]
public class CheckpointTests : IDisposable
{
    private readonly TempFolders _temp = new();

    public void Dispose() => _temp.Dispose();

    private string WriteCheckpoint(string name, out TinyTestNet network)
    {
        var folder = _temp.New(name);
        TorchGlobalState.Seed(61);
        network = new TinyTestNet();
        using var trainer = new Trainer(network, SyntheticData.Options(2), SyntheticData.Source(5), folder);
        trainer.Train();
        return Path.Combine(folder, Trainer.CheckpointFileName);
    }

    [Fact]
    public void Round_trip_restores_weights_buffers_momentum_and_history()
    {
        var path = WriteCheckpoint("roundtrip", out var network);
        using var _ = network;
        var checkpoint = TrainingCheckpoint.Load(path);
        Assert.Equal(2, checkpoint.Iteration);
        Assert.Equal(2, checkpoint.History.Steps.Count);
        Assert.Equal("tiny-test", checkpoint.Run.Network);

        TorchGlobalState.Seed(62);
        using var copy = new TinyTestNet();
        checkpoint.RestoreModel(copy);
        var original = network.state_dict();
        foreach (var (key, tensor) in copy.state_dict())
            Assert.True(tensor.eq(original[key]).all().item<bool>(), key);
        Assert.Contains("emau.mu", original.Keys);
        Assert.Contains("backbone.bn1.running_mean", original.Keys);

        using var optimizer = ParameterGroups.Of(copy).CreateOptimizer(SyntheticData.Options(2));
        checkpoint.RestoreOptimizer(optimizer);
        var states = optimizer.state_dict().State.Cast<TorchSharp.Modules.SGD.State>().ToArray();
        Assert.Contains(states, s => s.momentum_buffer is not null && s.momentum_buffer.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void Corruption_is_detected_and_the_file_named()
    {
        var path = WriteCheckpoint("corrupt", out var network);
        network.Dispose();
        var bytes = File.ReadAllBytes(path);

        // A flipped byte in the middle of the (stored, uncompressed) model tensors.
        var flipped = (byte[])bytes.Clone();
        flipped[bytes.Length / 2] ^= 0x40;
        var flippedPath = path + ".flipped" + TrainingCheckpoint.FileExtension;
        File.WriteAllBytes(flippedPath, flipped);
        var e1 = Assert.Throws<CheckpointException>(() => TrainingCheckpoint.Load(flippedPath));
        Assert.Contains(flippedPath, e1.Message);

        // Truncated (a crash while copying it somewhere).
        var truncatedPath = path + ".truncated" + TrainingCheckpoint.FileExtension;
        File.WriteAllBytes(truncatedPath, bytes[..(bytes.Length * 2 / 3)]);
        var e2 = Assert.Throws<CheckpointException>(() => TrainingCheckpoint.Load(truncatedPath));
        Assert.Contains(truncatedPath, e2.Message);

        // Not a checkpoint at all.
        var textPath = path + ".txt";
        File.WriteAllText(textPath, "hello");
        Assert.Contains(textPath, Assert.Throws<CheckpointException>(() => TrainingCheckpoint.Load(textPath)).Message);
        Assert.Contains("missing.ckpt", Assert.Throws<CheckpointException>(() => TrainingCheckpoint.Load(Path.Combine(Path.GetDirectoryName(path)!, "missing.ckpt"))).Message);
    }

    [Fact]
    public void A_checkpoint_of_another_network_does_not_load_into_this_one()
    {
        var path = WriteCheckpoint("othernet", out var network);
        network.Dispose();
        TorchGlobalState.Seed(63);
        using var other = new TinyAuxTestNet();
        var error = Assert.Throws<CheckpointException>(() => TrainingCheckpoint.Load(path).RestoreModel(other));
        Assert.Contains(path, error.Message);
    }
}
