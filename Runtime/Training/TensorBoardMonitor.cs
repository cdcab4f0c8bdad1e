using TorchSharp;

namespace EMANet.Runtime.Training;

/// <summary>
/// A TensorBoard event log through TorchSharp's SummaryWriter: train/loss and train/lr every
/// step, val/mIoU at every validation (`tensorboard --logdir DIR`).
/// </summary>
public sealed class TensorBoardMonitor(string logDirectory) : ITrainingMonitor
{
    private readonly TorchSharp.Modules.SummaryWriter _writer = torch.utils.tensorboard.SummaryWriter(logDirectory);

    public string LogDirectory => _writer.LogDir;

    public void OnStep(TrainingProgress progress)
    {
        _writer.add_scalar("train/loss", (float)progress.Loss, progress.Iteration);
        _writer.add_scalar("train/lr", (float)progress.LearningRate, progress.Iteration);
    }

    public void OnEvaluation(int iteration, double meanIoU) => _writer.add_scalar("val/mIoU", (float)meanIoU, iteration);
}
