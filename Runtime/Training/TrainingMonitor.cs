namespace EMANet.Runtime.Training;

/// <summary>The state of a run after one optimizer step.</summary>
/// <param name="Iteration">Completed iterations (1-based count).</param>
/// <param name="TotalIterations">Iterations of the whole run.</param>
/// <param name="Loss">This step's total loss (main + weighted auxiliary).</param>
/// <param name="LearningRate">The base learning rate used by this step (biases used a multiple).</param>
/// <param name="ImagesPerSecond">Throughput over the recent steps.</param>
/// <param name="Elapsed">Wall time since this process started training.</param>
/// <param name="Remaining">Estimated time to the end of the run.</param>
public readonly record struct TrainingProgress(
    int Iteration,
    int TotalIterations,
    double Loss,
    double LearningRate,
    double ImagesPerSecond,
    TimeSpan Elapsed,
    TimeSpan Remaining);

/// <summary>How a call to <see cref="Trainer.Run"/> ended.</summary>
/// <param name="Iteration">Completed iterations of the run.</param>
/// <param name="Completed">True when the run reached its last iteration.</param>
/// <param name="FinalLoss">Loss of the last step taken in this call, if any.</param>
/// <param name="LastMeanIoU">The last validation mIoU of the run, if any.</param>
/// <param name="Checkpoint">The newest checkpoint file, if any.</param>
/// <param name="Elapsed">Wall time of this call.</param>
public sealed record TrainingResult(int Iteration, bool Completed, double? FinalLoss, double? LastMeanIoU, string? Checkpoint, TimeSpan Elapsed);

/// <summary>Receives a run's events (console progress, TensorBoard, anything else). Every method has an empty default.</summary>
public interface ITrainingMonitor
{
    /// <summary>Before the first step of this call; <paramref name="startIteration"/> is non-zero on a resume.</summary>
    void OnStart(RunConfiguration run, int startIteration) { }

    void OnStep(TrainingProgress progress) { }

    void OnEvaluation(int iteration, double meanIoU) { }

    void OnCheckpoint(int iteration, string path) { }

    void OnStop(TrainingResult result) { }
}
