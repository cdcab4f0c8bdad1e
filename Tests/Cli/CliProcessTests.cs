using EMANet.Models;
using EMANet.Runtime.Networks;
using EMANet.Runtime.Training;
using EMANet.Tests.Training;
using static TorchSharp.torch;

namespace EMANet.Tests.Cli;

/// <summary>
/// The <c>emanet</c> process as a user runs it (spawned, signalled, killed): exit codes, the one-line errors,
/// stopping on SIGINT/SIGTERM with a checkpoint and a resume command, and a kill -9 between checkpoints
/// resumed through the real multi-threaded loader to the same result as an uninterrupted run.
/// Training runs use emanet-tiny at 33x33 on the synthetic data, batch 2, validating on 2 images.
/// </summary>
// In the serial collection: the training processes want the machine's cores to themselves, and the test restores checkpoints into networks.
[Collection(nameof(TorchGlobalState))]
public sealed class CliProcessTests : IDisposable
{
    private static readonly TimeSpan Short = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(240);
    private readonly TempFolders _temp = new();

    public void Dispose() => _temp.Dispose();

    private static string[] TinyRun(string output, int iterations, params string[] more) =>
    [
        "train", "emanet-tiny", "--data", "synthetic", "--input", "3x33x33", "--batch-size", "2", "--iterations", iterations.ToString(),
        "--out", output, "--device", "cpu", "--log-interval", "1", "--val-limit", "2", .. more,
    ];

    /// <summary>A progress line "[  k/N] ..." of iteration <paramref name="iteration"/>.</summary>
    private static bool IsStep(string line, int iteration) =>
        line.StartsWith('[') && line.TrimStart('[', ' ').StartsWith($"{iteration}/", StringComparison.Ordinal);

    [Theory]
    [InlineData("cost", "emanet-tiny", "--frobnicate")] // unknown option
    [InlineData("train", "emanet-tiny", "--out", "x")]  // a required option missing
    [InlineData("cost", "emanet-r102")]                 // unknown network
    [InlineData("cost")]                                // missing argument
    [InlineData("launch")]                              // unknown command
    public void Usage_errors_exit_2_with_one_line(params string[] args)
    {
        var (exit, output, error) = CliProcess.Run(_temp.New("usage"), Short, args);
        Assert.Equal(2, exit);
        Assert.Empty(output);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("emanet", line);
    }

    [Fact]
    public void A_corrupt_weights_file_exits_1_with_one_line_and_the_details_in_the_log()
    {
        var folder = _temp.New("corrupt");
        var weights = Path.Combine(folder, "broken.safetensors");
        File.WriteAllBytes(weights, [0x10, 0, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'"', (byte)'x', 1, 2, 3]);
        var (exit, _, error) = CliProcess.Run(folder, Short, "predict", "emanet-tiny", "--weights", weights, "--input", weights, "--output", Path.Combine(folder, "m.png"));
        Assert.Equal(1, exit);
        var line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("emanet predict: ", line);
        Assert.DoesNotContain("   at ", error);
        var log = Path.Combine(folder, "emanet-error.log"); // TMPDIR is the test's folder
        Assert.Contains(log, line);
        Assert.Contains("   at ", File.ReadAllText(log)); // the stack trace went to the log
    }

    [Theory]
    [InlineData(CliProcess.SigTerm, 143)]
    [InlineData(CliProcess.SigInt, 130)]
    public void A_signal_stops_training_with_a_checkpoint_and_a_resume_command_that_continues(int signal, int expectedExit)
    {
        var folder = _temp.New("signal");
        var run = Path.Combine(folder, "run");
        string[] args = TinyRun(run, 100_000, "--eval-interval", "0", "--checkpoint-interval", "0", "--checkpoint-minutes", "0");

        int stoppedAt;
        string resumeLine;
        using (var first = CliProcess.Start(folder, args))
        {
            first.WaitForOutput(l => IsStep(l, 3), Long);
            first.Signal(signal);
            Assert.Equal(expectedExit, first.WaitForExit(Long));
            Assert.DoesNotContain("   at ", first.Error);
            resumeLine = Assert.Single(first.ErrorLines, l => l.Contains("--resume"));
            var checkpoint = TrainingCheckpoint.Load(Path.Combine(run, Trainer.CheckpointFileName));
            stoppedAt = checkpoint.Iteration;
            Assert.True(stoppedAt >= 3, $"checkpoint at {stoppedAt}");
            Assert.Equal(Enumerable.Range(1, stoppedAt), checkpoint.History.Steps.Select(s => s.Iteration));
        }
        var prefix = $"emanet train: stopped at iteration {stoppedAt}; continue with: ";
        Assert.StartsWith(prefix, resumeLine);
        var command = CliProcess.SplitCommandLine(resumeLine[prefix.Length..]);
        Assert.Equal("emanet", command[0]);
        Assert.Equal([.. args, "--resume", Path.Combine(run, Trainer.CheckpointFileName)], command[1..]);

        // The printed command continues the run from the checkpoint (stopped again, by SIGTERM, after one more step).
        using var second = CliProcess.Start(folder, command[1..]);
        second.WaitForOutput(l => IsStep(l, stoppedAt + 1), Long);
        Assert.Contains($"resuming emanet-tiny at iteration {stoppedAt}/100000", second.Output);
        second.Signal(CliProcess.SigTerm);
        Assert.Equal(143, second.WaitForExit(Long));
        Assert.True(TrainingCheckpoint.Load(Path.Combine(run, Trainer.CheckpointFileName)).Iteration > stoppedAt);
    }

    [Fact]
    public void Kill_9_between_checkpoints_then_resume_equals_an_uninterrupted_run()
    {
        const int total = 30;
        var folder = _temp.New("kill9");
        string[] Args(string run) => TinyRun(run, total, "--eval-interval", "25", "--checkpoint-interval", "10", "--checkpoint-minutes", "0");

        var whole = Path.Combine(folder, "whole");
        var (exit, _, error) = CliProcess.Run(folder, Long, Args(whole));
        Assert.True(exit == 0, error);

        var killed = Path.Combine(folder, "killed");
        using (var process = CliProcess.Start(folder, Args(killed)))
        {
            process.WaitForOutput(l => IsStep(l, 12), Long);
            process.Signal(CliProcess.SigKill);
            Assert.Equal(128 + CliProcess.SigKill, process.WaitForExit(Long));
        }
        var checkpoint = Path.Combine(killed, Trainer.CheckpointFileName);
        var resumedFrom = TrainingCheckpoint.Load(checkpoint).Iteration;
        Assert.Equal(10, resumedFrom); // killed at 12 or soon after: checkpoints at 10, 20, 25 (validation) and 30
        // The killed process had logged steps after its checkpoint: the case the resume must clean up.
        Assert.Contains(TensorBoardEvents.Read(Path.Combine(killed, Trainer.TensorBoardFolderName)), e => e.Tag == "train/loss" && e.Step > resumedFrom);

        var (resumedExit, resumedOutput, resumedError) = CliProcess.Run(folder, Long, [.. Args(killed), "--resume", checkpoint]);
        Assert.True(resumedExit == 0, resumedError);
        Assert.Contains($"resuming emanet-tiny at iteration {resumedFrom}/{total}", resumedOutput);

        // Curves: one row per step and validation, equal to the uninterrupted run's (losses to the last bit).
        var curves = File.ReadAllLines(Path.Combine(killed, Trainer.CurvesCsvFileName));
        Assert.Equal(File.ReadAllLines(Path.Combine(whole, Trainer.CurvesCsvFileName)), curves);
        var history = TrainingHistory.FromCsv(string.Join('\n', curves));
        Assert.Equal(Enumerable.Range(1, total), history.Steps.Select(s => s.Iteration));
        Assert.Equal(new[] { 25, 30 }, history.Evaluations.Select(e => e.Iteration));

        // TensorBoard: every step and validation exactly once, with the uninterrupted run's values.
        var events = TensorBoardEvents.Read(Path.Combine(killed, Trainer.TensorBoardFolderName));
        foreach (var tag in new[] { "train/loss", "train/lr" })
            Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), events.Where(e => e.Tag == tag).Select(e => e.Step).Order());
        Assert.Equal(new long[] { 25, 30 }, events.Where(e => e.Tag == "val/mIoU").Select(e => e.Step).Order());
        var wholeEvents = TensorBoardEvents.Read(Path.Combine(whole, Trainer.TensorBoardFolderName));
        Assert.Equal(wholeEvents.OrderBy(e => (e.Tag, e.Step)).Select(e => (e.Tag, e.Step, e.Value)),
            events.OrderBy(e => (e.Tag, e.Step)).Select(e => (e.Tag, e.Step, e.Value)));

        // Weights, BN statistics and EMA bases: equal to 1e-6.
        using var a = Restore(Path.Combine(whole, Trainer.CheckpointFileName));
        using var b = Restore(checkpoint);
        var stateA = a.state_dict();
        var stateB = b.state_dict();
        Assert.Equal(stateA.Keys.Order(), stateB.Keys.Order());
        foreach (var (key, tensor) in stateA)
        {
            using var difference = (tensor.to(ScalarType.Float64) - stateB[key].to(ScalarType.Float64)).abs().max();
            Assert.True(difference.item<double>() <= 1e-6, $"{key} differs by {difference.item<double>()}");
        }
    }

    private static SegmentationNetwork Restore(string path)
    {
        var checkpoint = TrainingCheckpoint.Load(path);
        Assert.Equal(30, checkpoint.Iteration);
        var entry = NetworkCatalog.Find(NetworkCatalog.Discover(typeof(EmaNetR101).Assembly), checkpoint.Run.Network);
        var network = entry.Create(checkpoint.Run.Classes, TensorShape.Parse(checkpoint.Run.Input));
        checkpoint.RestoreModel(network);
        return network;
    }
}
