using EMANet.Runtime.IO;
using EMANet.Runtime.Blocks;
using EMANet.Runtime.Networks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EMANet.Runtime.Training;

/// <summary>
/// Trains a segmentation network with the EMANet recipe: SGD with momentum on three parameter
/// groups (see <see cref="ParameterGroups"/>), polynomial lr decay, cross-entropy ignoring the
/// void label and averaged as <see cref="TrainingOptions.LossAverage"/> says, plus the weighted auxiliary loss when the network has an auxiliary head, and the
/// EMA bases' moving average after every optimizer step. One dispose scope per step.
/// <para>
/// Reproducible: torch's generator is re-seeded from (seed, iteration) before every step (dropout),
/// batches are asked for by iteration, and a checkpoint holds everything else (weights, BN
/// statistics, EMA bases, momentum buffers, iteration, curves), so a resumed run continues
/// exactly as an uninterrupted one would. A NaN or infinite loss stops the run with a
/// <see cref="TrainingDivergedException"/> before any update, leaving the last checkpoint as the
/// last good state.
/// </para>
/// With an output directory the trainer writes <c>run.json</c>, <c>checkpoint.ckpt</c> (replaced
/// atomically at every checkpoint), <c>curves.csv</c>, <c>curves.png</c> and a TensorBoard log
/// under <c>tensorboard/</c>.
/// </summary>
public sealed class Trainer : IDisposable
{
    public const string RunFileName = "run.json";
    public const string CheckpointFileName = "checkpoint" + TrainingCheckpoint.FileExtension;
    public const string CurvesCsvFileName = "curves.csv";
    public const string CurvesPngFileName = "curves.png";
    public const string TensorBoardFolderName = "tensorboard";

    private readonly nn.Module<Tensor, Tensor> _network;
    private readonly ISegmentationNetwork? _segmentation;
    private readonly SGD _optimizer;
    private readonly IBatchSource _batches;
    private readonly List<ITrainingMonitor> _monitors = [];
    private readonly RemainingTimeEstimate _estimate = new();
    private int _lastCheckpointIteration = -1;
    private long _lastCheckpointTimestamp;

    /// <summary>
    /// Prepares a run: moves <paramref name="network"/> to the device, sets the BN momentum, builds
    /// the optimizer and, with <paramref name="resumeFrom"/>, restores weights, buffers, momentum,
    /// iteration and history from that checkpoint (whose recipe must equal <paramref name="options"/>').
    /// </summary>
    /// <param name="network">The network to train (its parameters are updated in place).</param>
    /// <param name="options">Hyper-parameters; validated here.</param>
    /// <param name="batches">The training batches, addressed by iteration.</param>
    /// <param name="outputDirectory">Where run.json, checkpoints, curves and the TensorBoard log go; null writes no files.</param>
    /// <param name="resumeFrom">A checkpoint of this network and recipe to continue from.</param>
    public Trainer(nn.Module<Tensor, Tensor> network, TrainingOptions options, IBatchSource batches, string? outputDirectory = null, TrainingCheckpoint? resumeFrom = null)
    {
        Options = options.Validate();
        _network = network;
        _batches = batches;
        _segmentation = network as ISegmentationNetwork;
        OutputDirectory = outputDirectory is null ? null : Path.GetFullPath(outputDirectory);
        Device = TrainingDevice.Resolve(options.Device);
        Run = new RunConfiguration
        {
            Network = _segmentation?.Descriptor.Name ?? network.GetName(),
            Classes = _segmentation?.Classes ?? 0,
            Input = _segmentation?.InputShape.ToString() ?? "",
            Data = batches.Description,
            Training = options,
        };

        if (resumeFrom is not null) CheckCompatible(resumeFrom);

        _network.to(Device);
        Precision = TrainingPrecisions.Parse(options.Precision);
        if (_segmentation is not null)
            _segmentation.SetTrainingPrecision(Precision);
        else if (Precision != TrainingPrecision.Float32)
            throw new ArgumentException($"training precision {options.Precision} needs a generated network (ISegmentationNetwork); {network.GetName()} is not one");
        if (options.BatchNormMomentum is { } momentum)
            foreach (var module in _network.modules())
                if (module is EMANet.Runtime.Blocks.BatchNorm2d norm) norm.momentum = momentum;

        Groups = ParameterGroups.Of(_network);
        _optimizer = Groups.CreateOptimizer(options);
        History = new TrainingHistory();

        if (resumeFrom is not null)
        {
            resumeFrom.RestoreModel(_network);
            resumeFrom.RestoreOptimizer(_optimizer);
            Iteration = resumeFrom.Iteration;
            History = resumeFrom.History;
            _lastCheckpointIteration = resumeFrom.Iteration;
            LastCheckpoint = resumeFrom.Path;
        }

        if (OutputDirectory is not null)
        {
            Directory.CreateDirectory(OutputDirectory);
            Run.Save(Path.Combine(OutputDirectory, RunFileName));
            // A killed run may have logged steps after the checkpoint this run starts from: the logs restart
            // from the checkpoint's history so that, once this run has logged its steps, each appears once.
            AtomicFile.WriteAllText(Path.Combine(OutputDirectory, CurvesCsvFileName), History.ToCsv());
            var tensorBoard = Path.Combine(OutputDirectory, TensorBoardFolderName);
            TensorBoardEventLog.DropEventsAfter(tensorBoard, Iteration);
            _monitors.Add(new TensorBoardMonitor(tensorBoard));
        }
    }

    public TrainingOptions Options { get; }

    /// <summary>The configuration recorded in run.json and in every checkpoint.</summary>
    public RunConfiguration Run { get; }

    public Device Device { get; }

    /// <summary>The precision the training forwards run in (<see cref="TrainingOptions.Precision"/>).</summary>
    public TrainingPrecision Precision { get; }

    public string? OutputDirectory { get; }

    /// <summary>Completed iterations.</summary>
    public int Iteration { get; private set; }

    public TrainingHistory History { get; private set; }

    public ParameterGroups Groups { get; }

    /// <summary>The optimizer (three groups: decayed weights, BN weights, biases).</summary>
    public SGD Optimizer => _optimizer;

    /// <summary>The newest checkpoint written (or resumed from); null before the first.</summary>
    public string? LastCheckpoint { get; private set; }

    /// <summary>The clock of step timing, the ETA and the time-based checkpoints (<see cref="TrainingOptions.CheckpointMinutes"/>); tests may replace it.</summary>
    public TimeProvider Time { get; set; } = TimeProvider.System;

    /// <summary>Receivers of progress events (a TensorBoard log is already here when there is an output directory).</summary>
    public IList<ITrainingMonitor> Monitors => _monitors;

    /// <summary>The seed torch's generator gets before the step with 0-based index <paramref name="iteration"/>.</summary>
    public static long StepSeed(long seed, int iteration)
    {
        // SplitMix64 of the pair: decorrelates neighbouring iterations and seeds.
        var z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)iteration + 0x632BE59BD9B4E019UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return (long)(z & 0x7FFF_FFFF_FFFF_FFFFUL);
    }

    /// <summary>
    /// Trains from the current iteration up to <paramref name="stopAtIteration"/> (default: the
    /// end of the run). Validates every <see cref="TrainingOptions.EvaluationInterval"/> iterations
    /// and at the end when <paramref name="evaluate"/> is given (it receives the network in eval
    /// mode under no_grad and returns the mIoU in 0..1).
    /// <para>
    /// Checkpoints (with an output directory): after every validation, every
    /// <see cref="TrainingOptions.EffectiveCheckpointInterval"/> iterations, at the first step ending
    /// <see cref="TrainingOptions.CheckpointMinutes"/> or more after the previous checkpoint, at the
    /// end, and when <paramref name="cancellation"/> or <paramref name="stopAtIteration"/> stops the
    /// run early (after the step in progress). An exception leaves the last checkpoint as it is.
    /// </para>
    /// </summary>
    public TrainingResult Train(Func<nn.Module<Tensor, Tensor>, double>? evaluate = null, int? stopAtIteration = null, CancellationToken cancellation = default)
    {
        var total = Options.Iterations;
        var stop = Math.Clamp(stopAtIteration ?? total, Iteration, total);
        var started = Time.GetTimestamp();
        _lastCheckpointTimestamp = started;
        var start = Iteration;
        double? finalLoss = null;
        foreach (var monitor in _monitors) monitor.OnStart(Run, start);

        var checkpointInterval = Options.EffectiveCheckpointInterval;
        var checkpointTime = TimeSpan.FromMinutes(Options.CheckpointMinutes);
        using var enumerator = _batches.Batches(start).GetEnumerator();
        try
        {
            while (Iteration < stop && !cancellation.IsCancellationRequested)
            {
                var stepStarted = Time.GetTimestamp();
                var iteration = Iteration;
                var learningRate = PolyLearningRate.At(Options, iteration);
                var (loss, images) = Step(enumerator, iteration, learningRate);
                finalLoss = loss;
                Iteration = iteration + 1;
                History.Add(new StepRecord(Iteration, loss, learningRate));

                _estimate.AddStep(Time.GetElapsedTime(stepStarted), images);
                var progress = new TrainingProgress(Iteration, total, loss, learningRate,
                    _estimate.ImagesPerSecond, Time.GetElapsedTime(started),
                    _estimate.Remaining(total - Iteration, (int)images, evaluate is null ? 0 : EvaluationsAfter(Iteration)));
                foreach (var monitor in _monitors) monitor.OnStep(progress);

                var last = Iteration == total;
                var evaluated = false;
                if (evaluate is not null && IsEvaluationDue(Iteration))
                {
                    var evaluationStarted = Time.GetTimestamp();
                    Evaluate(evaluate);
                    _estimate.AddEvaluation(Time.GetElapsedTime(evaluationStarted));
                    evaluated = true;
                }
                if (last || evaluated
                    || (checkpointInterval > 0 && Iteration % checkpointInterval == 0)
                    || (checkpointTime > TimeSpan.Zero && Time.GetElapsedTime(_lastCheckpointTimestamp) >= checkpointTime))
                    SaveCheckpoint();
            }
            if (Iteration < total && Iteration != _lastCheckpointIteration && Iteration > start)
                SaveCheckpoint();
        }
        finally
        {
            WriteCurves();
        }

        var result = new TrainingResult(Iteration, Iteration == total, finalLoss,
            History.Evaluations.Count > 0 ? History.Evaluations[^1].MeanIoU : null, LastCheckpoint, Time.GetElapsedTime(started));
        foreach (var monitor in _monitors) monitor.OnStop(result);
        return result;
    }

    /// <summary>Whether a validation follows the step that completed iteration <paramref name="iteration"/> (1-based): every interval and at the end.</summary>
    private bool IsEvaluationDue(int iteration) =>
        iteration == Options.Iterations || (Options.EvaluationInterval > 0 && iteration % Options.EvaluationInterval == 0);

    /// <summary>Validations still to come after iteration <paramref name="iteration"/> (1-based).</summary>
    private int EvaluationsAfter(int iteration)
    {
        var total = Options.Iterations;
        if (iteration >= total) return 0;
        if (Options.EvaluationInterval <= 0) return 1;
        var interval = Options.EvaluationInterval;
        return total / interval - iteration / interval + (total % interval == 0 ? 0 : 1);
    }

    /// <summary>One optimizer step inside its own dispose scope; returns the loss and the batch's image count.</summary>
    private (double Loss, long Images) Step(IEnumerator<(Tensor Images, Tensor Labels)> batches, int iteration, double learningRate)
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(StepSeed(Options.Seed, iteration));
        if (Device.type == DeviceType.CUDA) torch.cuda.manual_seed_all(StepSeed(Options.Seed, iteration));

        // Drawn inside the scope: whatever the source allocates while producing the batch is freed with the step.
        if (!batches.MoveNext())
            throw new InvalidOperationException($"the batch source ended before iteration {iteration + 1}");
        var (sourceImages, sourceLabels) = batches.Current;
        try
        {
            CheckBatch(sourceImages, sourceLabels, iteration);
            var images = sourceImages.to(Device);
            var labels = sourceLabels.to(ScalarType.Int64, Device);

            ParameterGroups.SetLearningRate(_optimizer, learningRate, Options.BiasLearningRateMultiplier);
            _network.train();
            Tensor main;
            Tensor? auxiliary = null;
            if (_segmentation is not null) (main, auxiliary) = _segmentation.ForwardTraining(images);
            else main = _network.forward(images);

            var loss = SegmentationLoss.CrossEntropy(main, labels, Options.IgnoreIndex, Options.LossAverage);
            if (auxiliary is not null && Options.AuxiliaryLossWeight > 0)
            {
                using var weight = Options.AuxiliaryLossWeight.ToScalar();   // held for the call (README.md, "TorchSharp Scalars")
                loss = loss.add(SegmentationLoss.CrossEntropy(auxiliary, labels, Options.IgnoreIndex, Options.LossAverage), weight);
            }

            var value = loss.item<float>();
            if (!float.IsFinite(value))
            {
                using var ignoreIndex = Options.IgnoreIndex.ToScalar();
                var labelled = labels.ne(ignoreIndex).any().item<bool>();
                if (!labelled)
                    throw new InvalidOperationException($"the batch of iteration {iteration + 1} has no labelled pixel (every label is the ignore index {Options.IgnoreIndex}); the loss is undefined");
                throw new TrainingDivergedException(iteration, value, learningRate, LastCheckpoint, _lastCheckpointIteration);
            }

            _optimizer.zero_grad();
            loss.backward();
            _optimizer.step();
            if (_segmentation is not null)
                foreach (var unit in _segmentation.EmaUnits) unit.UpdateBases();
            else
                foreach (var unit in _network.modules().OfType<EmaUnit>()) unit.UpdateBases();
            return (value, images.shape[0]);
        }
        finally
        {
            sourceImages.Dispose();
            sourceLabels.Dispose();
        }
    }

    private void CheckBatch(Tensor images, Tensor labels, int iteration)
    {
        if (images.dim() != 4 || labels.dim() != 3 || images.shape[0] != labels.shape[0] || images.shape[2] != labels.shape[1] || images.shape[3] != labels.shape[2])
            throw new ArgumentException(
                $"the batch of iteration {iteration + 1} has images [{string.Join(", ", images.shape)}] and labels [{string.Join(", ", labels.shape)}]; expected B x C x H x W and B x H x W");
        if (!images.is_floating_point())
            throw new ArgumentException($"the batch of iteration {iteration + 1} has {images.dtype} images; expected floating point");
    }

    private void Evaluate(Func<nn.Module<Tensor, Tensor>, double> evaluate)
    {
        double meanIoU;
        _network.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            meanIoU = evaluate(_network);
        }
        finally
        {
            _network.train();
        }
        if (!double.IsFinite(meanIoU)) throw new InvalidOperationException($"the evaluation after iteration {Iteration} returned {meanIoU}");
        History.Add(new EvaluationRecord(Iteration, meanIoU));
        foreach (var monitor in _monitors) monitor.OnEvaluation(Iteration, meanIoU);
    }

    /// <summary>Writes the checkpoint of the current state (atomically) when there is an output directory.</summary>
    public void SaveCheckpoint()
    {
        if (OutputDirectory is null) return;
        var path = Path.Combine(OutputDirectory, CheckpointFileName);
        TrainingCheckpoint.Save(path, Iteration, Run, _network, _optimizer, History);
        AtomicFile.WriteAllText(Path.Combine(OutputDirectory, CurvesCsvFileName), History.ToCsv());
        LastCheckpoint = path;
        _lastCheckpointIteration = Iteration;
        _lastCheckpointTimestamp = Time.GetTimestamp();
        foreach (var monitor in _monitors) monitor.OnCheckpoint(Iteration, path);
    }

    private void WriteCurves()
    {
        if (OutputDirectory is null) return;
        AtomicFile.WriteAllText(Path.Combine(OutputDirectory, CurvesCsvFileName), History.ToCsv());
        TrainingPlot.SavePng(History, Path.Combine(OutputDirectory, CurvesPngFileName), $"{Run.Network}: iteration {Iteration}/{Options.Iterations}");
    }

    private void CheckCompatible(TrainingCheckpoint checkpoint)
    {
        var saved = checkpoint.Run;
        if (!string.Equals(saved.Network, Run.Network, StringComparison.Ordinal) || saved.Classes != Run.Classes || saved.Input != Run.Input)
            throw new CheckpointException(checkpoint.Path,
                $"it was written for {saved.Network} ({saved.Input}, {saved.Classes} classes), not {Run.Network} ({Run.Input}, {Run.Classes} classes)");
        var differences = Options.RecipeDifferences(saved.Training);
        if (differences.Count > 0)
            throw new CheckpointException(checkpoint.Path,
                $"resuming would change the recipe ({string.Join("; ", differences)}); resume with the checkpoint's settings or start a new run");
    }

    public void Dispose() => _optimizer.Dispose();
}
