using EMANet.Runtime.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace EMANet.Tests.Training;

[Collection(nameof(TorchGlobalState))]
public class TrainerTests : IDisposable
{
    private readonly TempFolders _temp = new();

    public void Dispose() => _temp.Dispose();

    private static TinyTestNet NewNetwork(long initSeed)
    {
        TorchGlobalState.Seed(initSeed);
        return new TinyTestNet();
    }

    [Fact]
    public void Loss_goes_down_over_a_few_sgd_steps()
    {
        using var network = NewNetwork(1);
        using var trainer = new Trainer(network, SyntheticData.Options(12) with { LearningRate = 0.1 }, SyntheticData.Fixed(3));
        var result = trainer.Train();
        Assert.True(result.Completed);
        var losses = trainer.History.Steps.Select(s => s.Loss).ToArray();
        Assert.Equal(12, losses.Length);
        Assert.All(losses, l => Assert.True(double.IsFinite(l)));
        Assert.True(losses[^3..].Average() < 0.85 * losses[..3].Average(),
            $"loss did not go down: {string.Join(", ", losses.Select(l => l.ToString("F3")))}");
    }

    [Fact]
    public void Bf16_mixed_precision_option_routes_the_network_and_trains()
    {
        using var network = NewNetwork(1);
        using var trainer = new Trainer(network, SyntheticData.Options(12) with { LearningRate = 0.1, Precision = "bf16-mixed" }, SyntheticData.Fixed(3));
        Assert.Equal(EMANet.Runtime.Networks.TrainingPrecision.BFloat16Mixed, trainer.Precision);
        Assert.Equal(EMANet.Runtime.Networks.TrainingPrecision.BFloat16Mixed, network.TrainingPrecision);
        trainer.Train();
        var losses = trainer.History.Steps.Select(s => s.Loss).ToArray();
        Assert.True(losses[^3..].Average() < 0.85 * losses[..3].Average(),
            $"loss did not go down: {string.Join(", ", losses.Select(l => l.ToString("F3")))}");
        Assert.All(network.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
    }

    [Fact]
    public void Unknown_precision_and_mixed_precision_on_a_plain_module_are_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => SyntheticData.Options(2) with { Precision = "bf16" } is var o ? o.Validate() : null);
        Assert.Contains("Precision = bf16", error.Message);
        using var plain = nn.Sequential(nn.Conv2d(3, 3, 1));
        var refused = Assert.Throws<ArgumentException>(() => new Trainer(plain, SyntheticData.Options(2) with { Precision = "bf16-mixed" }, SyntheticData.Fixed(3)));
        Assert.Contains("needs a generated network", refused.Message);
    }

    [Fact]
    public void Live_tensor_count_stays_flat_over_many_steps()
    {
        using var network = NewNetwork(2);
        using var trainer = new Trainer(network, SyntheticData.Options(40) with { BatchSize = 1 }, SyntheticData.Source(5, batch: 1));
        var statistics = DisposeScopeManager.Statistics;
        trainer.Train(stopAtIteration: 5); // warm-up: momentum buffers, first-call caches
        var afterWarmUp = statistics.ThreadTotalLiveCount;
        var totalAfterWarmUp = Tensor.TotalCount;
        trainer.Train(stopAtIteration: 35);
        Assert.Equal(35, trainer.Iteration);
        Assert.Equal(afterWarmUp, statistics.ThreadTotalLiveCount);
        // The process-wide count: no other test runs meanwhile (the collection is not parallel), but earlier tests' tensors
        // may still be finalized and lower it. One tensor leaked per step would raise it by 30.
        Assert.True(Tensor.TotalCount - totalAfterWarmUp < 10, $"tensor count grew from {totalAfterWarmUp} to {Tensor.TotalCount}");
    }

    [Fact]
    public void Ema_bases_move_after_each_step_and_bn_momentum_is_applied()
    {
        using var network = NewNetwork(3);
        var before = network.EmaUnits[0].BasesBuffer.clone();
        using var trainer = new Trainer(network, SyntheticData.Options(2) with { BatchNormMomentum = 3e-4 }, SyntheticData.Source(5));
        trainer.Train();
        Assert.False(before.allclose(network.EmaUnits[0].BasesBuffer), "the bases' moving average did not move");
        var norms = network.modules().OfType<EMANet.Runtime.Blocks.BatchNorm2d>().ToList();
        Assert.NotEmpty(norms);
        Assert.All(norms, bn => Assert.Equal(3e-4, bn.momentum));
        before.Dispose();
    }

    [Fact]
    public void Auxiliary_loss_is_added_with_its_weight()
    {
        TorchGlobalState.Seed(4);
        using var reference = new TinyAuxTestNet();
        TorchGlobalState.Seed(4);
        using var trained = new TinyAuxTestNet();
        var options = SyntheticData.Options(1) with { AuxiliaryLossWeight = 0.4, LossAverage = LossAverage.Labelled };   // PyTorch's mean, as computed below

        var (images, labels) = SyntheticData.Batch(9, 0);
        double expectedMain, expectedAux;
        using (NewDisposeScope())
        {
            TorchGlobalState.Seed(Trainer.StepSeed(options.Seed, 0));
            reference.train();
            var (main, aux) = reference.ForwardTraining(images);
            Assert.NotNull(aux);
            Assert.Equal(main.shape, aux!.shape);
            expectedMain = nn.functional.cross_entropy(main, labels, ignore_index: 255).item<float>();
            expectedAux = nn.functional.cross_entropy(aux, labels, ignore_index: 255).item<float>();
        }
        images.Dispose();
        labels.Dispose();

        using var trainer = new Trainer(trained, options, BatchSources.FromFunction(i => SyntheticData.Batch(9, i), "synthetic"));
        trainer.Train();
        Assert.Equal(expectedMain + 0.4 * expectedAux, trainer.History.Steps[0].Loss, 4);
        Assert.True(expectedAux > 0.05);
    }

    [Fact]
    public void Resumed_run_equals_an_uninterrupted_one()
    {
        const int total = 6, killedAt = 3;
        var options = SyntheticData.Options(total) with { CheckpointInterval = killedAt };

        // Uninterrupted.
        var folderA = _temp.New("uninterrupted");
        using var networkA = NewNetwork(11);
        using (var trainer = new Trainer(networkA, options, SyntheticData.Source(5), folderA))
            Assert.True(trainer.Train().Completed);

        // Trained to 3, checkpoint written, everything discarded ("killed").
        var folderB = _temp.New("killed");
        using (var network = NewNetwork(11))
        using (var trainer = new Trainer(network, options, SyntheticData.Source(5), folderB))
        {
            var partial = trainer.Train(stopAtIteration: killedAt);
            Assert.False(partial.Completed);
            Assert.Equal(killedAt, partial.Iteration);
        }
        var checkpointPath = Path.Combine(folderB, Trainer.CheckpointFileName);

        // Resumed into a network initialised differently, with torch's generator elsewhere.
        var checkpoint = TrainingCheckpoint.Load(checkpointPath);
        Assert.Equal(killedAt, checkpoint.Iteration);
        using var networkC = NewNetwork(999);
        TorchGlobalState.Seed(12345);
        using (var trainer = new Trainer(networkC, options, SyntheticData.Source(5), folderB, checkpoint))
        {
            Assert.Equal(killedAt, trainer.Iteration);
            Assert.True(trainer.Train().Completed);
            Assert.Equal(total, trainer.History.Steps.Count);
        }

        var a = networkA.state_dict();
        var c = networkC.state_dict();
        Assert.Equal(a.Keys.OrderBy(k => k), c.Keys.OrderBy(k => k));
        foreach (var (key, tensor) in a)
        {
            using var difference = (tensor.to(ScalarType.Float64) - c[key].to(ScalarType.Float64)).abs().max();
            Assert.True(difference.item<double>() <= 1e-6, $"{key} differs by {difference.item<double>()}");
        }
        var lossesA = File.ReadAllLines(Path.Combine(folderA, Trainer.CurvesCsvFileName));
        var lossesB = File.ReadAllLines(Path.Combine(folderB, Trainer.CurvesCsvFileName));
        Assert.Equal(lossesA, lossesB);
    }

    [Fact]
    public void Dropout_makes_steps_differ_but_reseeding_makes_them_repeat()
    {
        using var network = NewNetwork(21);
        network.train();
        var (images, _) = SyntheticData.Batch(1, 0);
        using var scope = NewDisposeScope();
        TorchGlobalState.Seed(Trainer.StepSeed(7, 0));
        var first = network.forward(images);
        TorchGlobalState.Seed(Trainer.StepSeed(7, 0));
        var again = network.forward(images);
        var others = Enumerable.Range(1, 5).Select(i =>
        {
            TorchGlobalState.Seed(Trainer.StepSeed(7, i));
            return network.forward(images);
        }).ToArray();
        Assert.True(first.eq(again).all().item<bool>());
        Assert.Contains(others, o => !first.allclose(o));
        images.Dispose();
    }

    [Fact]
    public void Nan_loss_stops_the_run_and_keeps_the_last_good_checkpoint()
    {
        var folder = _temp.New("diverged");
        var source = BatchSources.FromFunction(i =>
        {
            var (images, labels) = SyntheticData.Batch(5, i);
            if (i == 3) images.fill_(double.NaN);
            return (images, labels);
        }, "synthetic with a NaN batch at iteration 4");
        using var network = NewNetwork(31);
        using var trainer = new Trainer(network, SyntheticData.Options(10) with { CheckpointInterval = 2 }, source, folder);
        var error = Assert.Throws<TrainingDivergedException>(() => trainer.Train());
        Assert.Equal(3, error.Iteration);
        Assert.Equal(2, error.LastCheckpointIteration);
        var path = Path.Combine(folder, Trainer.CheckpointFileName);
        Assert.Equal(path, error.LastCheckpoint);
        Assert.Contains(path, error.Message);
        Assert.Contains("NaN", error.Message);
        Assert.Equal(2, TrainingCheckpoint.Load(path).Iteration);
        Assert.Equal(3, trainer.Iteration);
    }

    [Fact]
    public void Writes_run_json_checkpoint_curves_plot_and_tensorboard_and_evaluates_on_schedule()
    {
        var folder = _temp.New("outputs");
        using var network = NewNetwork(41);
        var calls = new List<(int Iteration, bool Training)>();
        var options = SyntheticData.Options(4) with { EvaluationInterval = 2, CheckpointInterval = 2 };
        using var trainer = new Trainer(network, options, SyntheticData.Source(5), folder);
        var console = new StringWriter();
        trainer.Monitors.Add(new ConsoleProgress(console, interactive: false, logInterval: 2));
        var result = trainer.Train(module =>
        {
            calls.Add((trainer.Iteration, module.training));
            return 0.25 + trainer.Iteration / 100.0;
        });

        Assert.True(result.Completed);
        Assert.Equal(new[] { (2, false), (4, false) }, calls);
        Assert.True(network.training);
        Assert.Equal(0.29, result.LastMeanIoU);
        Assert.Equal(new[] { 2, 4 }, trainer.History.Evaluations.Select(e => e.Iteration));

        var run = RunConfiguration.Load(Path.Combine(folder, Trainer.RunFileName));
        Assert.Equal("tiny-test", run.Network);
        Assert.Equal("3x33x33", run.Input);
        Assert.Equal(3, run.Classes);
        Assert.Equal(options, run.Training);

        var csv = File.ReadAllLines(Path.Combine(folder, Trainer.CurvesCsvFileName));
        Assert.Equal("iteration,loss,lr,val_miou", csv[0]);
        Assert.Equal(5, csv.Length);
        Assert.EndsWith(",0.27", csv[2]);
        Assert.EndsWith(",", csv[1]);

        var png = File.ReadAllBytes(Path.Combine(folder, Trainer.CurvesPngFileName));
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, png[..4]);
        Assert.Single(Directory.GetFiles(Path.Combine(folder, Trainer.TensorBoardFolderName), "events.out.tfevents.*"));
        Assert.True(new FileInfo(Directory.GetFiles(Path.Combine(folder, Trainer.TensorBoardFolderName))[0]).Length > 200);
        Assert.Equal(4, TrainingCheckpoint.Load(Path.Combine(folder, Trainer.CheckpointFileName)).Iteration);
        Assert.Empty(Directory.GetFiles(folder, "*.tmp"));

        var lines = console.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.StartsWith("[2/4]"));
        Assert.Contains(lines, l => l.StartsWith("[4/4]"));
        Assert.Contains(lines, l => l.Contains("validation mIoU 27.00%"));
        Assert.DoesNotContain('\r', console.ToString());
    }

    [Fact]
    public void Resuming_with_another_recipe_or_network_is_refused()
    {
        var folder = _temp.New("mismatch");
        var options = SyntheticData.Options(4) with { CheckpointInterval = 2 };
        using (var network = NewNetwork(51))
        using (var trainer = new Trainer(network, options, SyntheticData.Source(5), folder))
            trainer.Train(stopAtIteration: 2);
        var checkpoint = TrainingCheckpoint.Load(Path.Combine(folder, Trainer.CheckpointFileName));

        using var same = NewNetwork(52);
        var recipe = Assert.Throws<CheckpointException>(() => new Trainer(same, options with { LearningRate = 0.5 }, SyntheticData.Source(5), null, checkpoint));
        Assert.Contains("LearningRate", recipe.Message);
        Assert.Contains(checkpoint.Path, recipe.Message);

        TorchGlobalState.Seed(53);
        using var other = new TinyAuxTestNet();
        var wrongNetwork = Assert.Throws<CheckpointException>(() => new Trainer(other, options, SyntheticData.Source(5), null, checkpoint));
        Assert.Contains("tiny-test", wrongNetwork.Message);

        // Intervals and device may change.
        using var resumed = new Trainer(same, options with { CheckpointInterval = 1, LogInterval = 3 }, SyntheticData.Source(5), null, checkpoint);
        Assert.Equal(2, resumed.Iteration);
    }
}
