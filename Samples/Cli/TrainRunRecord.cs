using EMANet.Runtime.Training;

namespace EMANet.Cli;

/// <summary>
/// What <c>emanet train</c> has done so far, for the lines printed when it stops or fails: its run
/// folder (for the error log) and the newest checkpoint it can be resumed from (the one it wrote
/// last, or the --resume file it started from).
/// </summary>
public sealed class TrainRunRecord : ITrainingMonitor
{
    private string? _resumeFile;

    /// <summary>The --out folder as given on the command line; null until read.</summary>
    public string? OutputDirectory { get; internal set; }

    /// <summary>The checkpoint a resume would start from (as given, or the path the trainer wrote); null when there is none.</summary>
    public string? Checkpoint { get; private set; }

    /// <summary>Completed iterations when the run stopped; null before it stopped.</summary>
    public int? StoppedAt { get; private set; }

    internal void StartingFrom(string? resumeFile) => _resumeFile = resumeFile;

    public void OnStart(RunConfiguration run, int startIteration)
    {
        if (startIteration > 0 && _resumeFile is not null) Checkpoint = _resumeFile;
    }

    public void OnCheckpoint(int iteration, string path) => Checkpoint = Shorten(path);

    public void OnStop(TrainingResult result) => StoppedAt = result.Iteration;

    /// <summary>The checkpoint under the --out folder as the user wrote it (runs/tiny/checkpoint.ckpt), else the path unchanged.</summary>
    private string Shorten(string path)
    {
        if (OutputDirectory is null) return path;
        var given = Path.Combine(OutputDirectory, Trainer.CheckpointFileName);
        return string.Equals(Path.GetFullPath(given), Path.GetFullPath(path), StringComparison.Ordinal) ? given : path;
    }
}
