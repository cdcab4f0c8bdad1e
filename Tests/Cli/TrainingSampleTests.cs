using EMANet.Runtime.Workflows;

namespace EMANet.Tests.Cli;

/// <summary>
/// Every prediction the product writes goes through one path: the pictures a training run ends with
/// are what <c>emanet predict</c> gives for the checkpoint it wrote (the README's main job once
/// showed a mask of almost one class while predict on the same checkpoint was right).
/// </summary>
public sealed class TrainingSampleTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("emanet-sample-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void The_trainers_sample_prediction_is_what_emanet_predict_gives_for_its_checkpoint()
    {
        var run = Path.Combine(_folder, "run");
        var (exit, output, error) = CliProcess.Run(_folder, TimeSpan.FromMinutes(5),
            "train", "emanet-tiny", "--data", "synthetic", "--out", run, "--input", "3x65x65",
            "--iterations", "6", "--batch-size", "2", "--eval-interval", "0", "--val-limit", "8", "--bn-momentum", "keep");
        Assert.True(exit == 0, $"train exited {exit}: {error}\n{output}");

        var mask = Path.Combine(_folder, "mask.png");
        var overlay = Path.Combine(_folder, "overlay.png");
        var attention = Path.Combine(_folder, "attention.png");
        (exit, output, error) = CliProcess.Run(_folder, TimeSpan.FromMinutes(2),
            "predict", "emanet-tiny", "--weights", Path.Combine(run, "checkpoint.ckpt"), "--input", Path.Combine(run, TrainingSample.ImageFileName),
            "--output", mask, "--overlay", overlay, "--attention", attention);
        Assert.True(exit == 0, $"predict exited {exit}: {error}\n{output}");

        Assert.Equal(File.ReadAllBytes(mask), File.ReadAllBytes(Path.Combine(run, TrainingSample.PredictionFileName)));
        Assert.Equal(File.ReadAllBytes(overlay), File.ReadAllBytes(Path.Combine(run, TrainingSample.OverlayFileName)));
        Assert.Equal(File.ReadAllBytes(attention), File.ReadAllBytes(Path.Combine(run, TrainingSample.AttentionFileName)));
    }
}
