using System.Runtime.InteropServices;
using EMANet.Runtime.Training;
using static TorchSharp.torch;

namespace EMANet.Tests.Training;

/// <summary>"Never lose a run": the checkpoint policy, resumes that log every step once, and a stable ETA.</summary>
[Collection(nameof(TorchGlobalState))]
public sealed class RunSafetyTests : IDisposable
{
    private readonly TempFolders _temp = new();

    public void Dispose() => _temp.Dispose();

    private static TinyTestNet NewNetwork()
    {
        TorchGlobalState.Seed(11);
        return new TinyTestNet();
    }

    /// <summary>A clock that moves only when told (timestamps in ticks).</summary>
    private sealed class FakeTime : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public void Advance(TimeSpan span) => Interlocked.Add(ref _ticks, span.Ticks);
    }

    /// <summary>A source whose batch of iteration i "takes" <paramref name="duration"/>(i) on <paramref name="clock"/>.</summary>
    private static IBatchSource Timed(FakeTime clock, Func<int, TimeSpan> duration) =>
        BatchSources.FromFunction(i =>
        {
            clock.Advance(duration(i));
            return SyntheticData.Batch(5, i);
        }, "synthetic, timed");

    private sealed class Recorder : ITrainingMonitor
    {
        public List<int> Checkpoints { get; } = [];
        public List<TrainingProgress> Steps { get; } = [];

        public void OnCheckpoint(int iteration, string path) => Checkpoints.Add(iteration);

        public void OnStep(TrainingProgress progress) => Steps.Add(progress);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(1500)]
    [InlineData(30_000)]
    [InlineData(1_000_000)]
    public void Default_checkpoint_interval_is_never_longer_than_the_run(int iterations)
    {
        var interval = new TrainingOptions { Iterations = iterations }.EffectiveCheckpointInterval;
        Assert.InRange(interval, 1, Math.Min(iterations, TrainingOptions.DefaultCheckpointInterval));
        Assert.Equal(5, new TrainingOptions { Iterations = iterations, CheckpointInterval = 5 }.EffectiveCheckpointInterval);
    }

    /// <summary>The README's main job: 1500 iterations, validation every 500, died with a native exception at its second validation.</summary>
    [Fact]
    public void A_run_dying_at_its_second_validation_leaves_a_checkpoint_to_resume_from()
    {
        var folder = _temp.New("dies-at-validation");
        var options = SyntheticData.Options(12) with { CheckpointInterval = new TrainingOptions().CheckpointInterval, EvaluationInterval = 4 };
        var validations = 0;
        double Failing(nn.Module _) => ++validations == 2 ? throw new ExternalException("c10::Error: simulated native failure") : 0.5;

        using (var network = NewNetwork())
        using (var trainer = new Trainer(network, options, SyntheticData.Source(5), folder))
            Assert.Throws<ExternalException>(() => trainer.Train(Failing));

        var path = Path.Combine(folder, Trainer.CheckpointFileName);
        Assert.True(File.Exists(path), "no checkpoint after a run that validated once and died at its second validation");
        var checkpoint = TrainingCheckpoint.Load(path);
        Assert.InRange(checkpoint.Iteration, 4, 8);
        Assert.Contains(checkpoint.History.Evaluations, e => e.Iteration == 4);

        using var resumedNetwork = NewNetwork();
        using var resumed = new Trainer(resumedNetwork, options, SyntheticData.Source(5), folder, checkpoint);
        Assert.True(resumed.Train(_ => 0.5).Completed);
    }

    [Fact]
    public void Checkpoints_follow_wall_time_validations_and_the_end()
    {
        var clock = new FakeTime();
        var options = SyntheticData.Options(10) with { CheckpointInterval = 0, CheckpointMinutes = 1 };
        using var network = NewNetwork();
        using var trainer = new Trainer(network, options, Timed(clock, _ => TimeSpan.FromSeconds(25)), _temp.New("by-time")) { Time = clock };
        var recorder = new Recorder();
        trainer.Monitors.Add(recorder);
        trainer.Train();
        Assert.Equal(new[] { 3, 6, 9, 10 }, recorder.Checkpoints); // 75 s, 150 s, 225 s after the previous one ≥ 60 s; the end

        var clock2 = new FakeTime();
        using var network2 = NewNetwork();
        using var validated = new Trainer(network2, options with { CheckpointMinutes = 0, EvaluationInterval = 4 },
            Timed(clock2, _ => TimeSpan.FromSeconds(25)), _temp.New("by-validation")) { Time = clock2 };
        var recorder2 = new Recorder();
        validated.Monitors.Add(recorder2);
        validated.Train(_ => 0.5);
        Assert.Equal(new[] { 4, 8, 10 }, recorder2.Checkpoints);
    }

    [Fact]
    public void Eta_stays_within_bounds_when_one_step_is_an_outlier()
    {
        const int total = 100;
        var clock = new FakeTime();
        // 1 s a step, except a slow first step (warm-up) and one 60 s stall (a GC pause, a slow read, another process).
        var duration = (int i) => TimeSpan.FromSeconds(i switch { 0 => 20, 49 => 60, _ => 1 });
        using var network = NewNetwork();
        using var trainer = new Trainer(network, SyntheticData.Options(total), Timed(clock, duration)) { Time = clock };
        var recorder = new Recorder();
        trainer.Monitors.Add(recorder);
        trainer.Train();

        foreach (var step in recorder.Steps.Where(s => s.Iteration > RemainingTimeEstimate.WarmUpSteps && s.Iteration < total))
        {
            var truth = total - step.Iteration; // seconds: 1 s per remaining step
            Assert.InRange(step.Remaining.TotalSeconds, 0.9 * truth, 1.25 * truth);
            Assert.InRange(step.ImagesPerSecond, 2 / 1.25, 2 / 0.9);
        }
    }

    [Fact]
    public void Eta_adds_the_remaining_validations_at_their_measured_duration()
    {
        var estimate = new RemainingTimeEstimate();
        for (var i = 0; i < 10; i++) estimate.AddStep(TimeSpan.FromSeconds(2), 4);
        estimate.AddEvaluation(TimeSpan.FromSeconds(30));
        estimate.AddEvaluation(TimeSpan.FromSeconds(50));
        Assert.Equal(TimeSpan.FromSeconds(2 * 100 + 40 * 3), estimate.Remaining(100, 4, 3));
        Assert.Equal(2.0, estimate.ImagesPerSecond, 12);
    }

    /// <summary>A run that crashed after logging steps past its last checkpoint, resumed: curves and TensorBoard hold every step once.</summary>
    [Fact]
    public void Resume_after_a_crash_logs_every_step_exactly_once()
    {
        const int total = 8;
        var folder = _temp.New("crash-resume");
        var options = SyntheticData.Options(total) with { CheckpointInterval = 3, EvaluationInterval = 2, CheckpointMinutes = 0 };
        var crashing = BatchSources.FromFunction(i => i == 5 ? throw new IOException("disk gone") : SyntheticData.Batch(5, i), "crashing");
        using (var network = NewNetwork())
        using (var trainer = new Trainer(network, options, crashing, folder))
            Assert.Throws<IOException>(() => trainer.Train(_ => 0.25));
        var tensorBoard = Path.Combine(folder, Trainer.TensorBoardFolderName);
        Assert.Contains(TensorBoardEvents.Read(tensorBoard), e => e.Tag == "train/loss" && e.Step == 5); // logged after the checkpoint at 4

        var checkpoint = TrainingCheckpoint.Load(Path.Combine(folder, Trainer.CheckpointFileName));
        Assert.InRange(checkpoint.Iteration, 3, 4); // 4: validations checkpoint (tested apart); steps after it were logged
        using (var network = NewNetwork())
        using (var trainer = new Trainer(network, options, SyntheticData.Source(5), folder, checkpoint))
            Assert.True(trainer.Train(_ => 0.25).Completed);

        var events = TensorBoardEvents.Read(tensorBoard);
        Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), events.Where(e => e.Tag == "train/loss").Select(e => e.Step).Order());
        Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), events.Where(e => e.Tag == "train/lr").Select(e => e.Step).Order());
        Assert.Equal(new long[] { 2, 4, 6, 8 }, events.Where(e => e.Tag == "val/mIoU").Select(e => e.Step).Order());
        var history = TrainingHistory.FromCsv(File.ReadAllText(Path.Combine(folder, Trainer.CurvesCsvFileName)));
        Assert.Equal(Enumerable.Range(1, total), history.Steps.Select(s => s.Iteration));
        Assert.Equal(new[] { 2, 4, 6, 8 }, history.Evaluations.Select(e => e.Iteration));
    }
}
