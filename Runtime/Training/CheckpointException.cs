namespace EMANet.Runtime.Training;

/// <summary>A checkpoint file that cannot be read or does not fit the network it is loaded into. The message names the file.</summary>
public sealed class CheckpointException(string path, string problem, Exception? inner = null)
    : IOException($"checkpoint '{path}': {problem}", inner)
{
    public string Path { get; } = path;

    /// <summary>What is wrong, without the file name.</summary>
    public string Problem { get; } = problem;
}

/// <summary>The loss became NaN or infinite: the run stopped without writing the diverged state, so the last checkpoint is the last good one.</summary>
public sealed class TrainingDivergedException(int iteration, double loss, double learningRate, string? lastCheckpoint, int lastCheckpointIteration)
    : Exception($"training diverged: the loss of iteration {iteration + 1} is {loss} (lr {learningRate:G4}); " +
                (lastCheckpoint is null
                    ? "no checkpoint had been written yet"
                    : $"the last good checkpoint is '{lastCheckpoint}' (iteration {lastCheckpointIteration}); resume from it with a lower learning rate"))
{
    /// <summary>0-based index of the step whose loss was not finite.</summary>
    public int Iteration { get; } = iteration;
    public double Loss { get; } = loss;
    public double LearningRate { get; } = learningRate;
    public string? LastCheckpoint { get; } = lastCheckpoint;
    public int LastCheckpointIteration { get; } = lastCheckpointIteration;
}
