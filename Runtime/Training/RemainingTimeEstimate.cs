namespace EMANet.Runtime.Training;

/// <summary>
/// The throughput and time-to-finish shown while training, from measured durations only (no clock
/// of its own, so it can be fed any durations).
/// <para>
/// Step time: the first <see cref="WarmUpSteps"/> steps of a process (allocator growth, first-call
/// caches, JIT) are left out once later steps exist. After that, an exponential moving average
/// (weight <see cref="Smoothing"/>, about the last 40 steps) whose upward moves are limited: one step
/// can raise the estimate by at most <see cref="Smoothing"/> times the estimate (5 %), however long it
/// took, so a single outlier (a GC pause, a slow disk read, another process) cannot swing the ETA,
/// while a lasting slow-down is still followed (doubling takes about fifteen steps). Downward moves
/// are not limited.
/// </para>
/// <para>
/// Validation time is measured apart (it is not a step) and added for the validations still to
/// come, at the mean duration of those measured so far.
/// </para>
/// </summary>
public sealed class RemainingTimeEstimate
{
    /// <summary>Steps at the start of a process that do not enter the estimate once later steps exist.</summary>
    public const int WarmUpSteps = 3;

    /// <summary>Weight of a new step in the moving average, and the bound of one step's upward move (fraction of the estimate).</summary>
    public const double Smoothing = 0.05;

    private int _steps;
    private double _warmUpSeconds;
    private long _warmUpImages;
    private double? _secondsPerImage;
    private double _evaluationSeconds;
    private int _evaluations;

    /// <summary>Records one optimizer step of <paramref name="images"/> images that took <paramref name="elapsed"/> (data wait included, validation excluded).</summary>
    public void AddStep(TimeSpan elapsed, long images)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(images);
        var seconds = Math.Max(elapsed.TotalSeconds, 0);
        _steps++;
        if (_steps <= WarmUpSteps)
        {
            _warmUpSeconds += seconds;
            _warmUpImages += images;
            return;
        }
        var perImage = seconds / images;
        if (_secondsPerImage is not { } current)
        {
            _secondsPerImage = perImage;
            return;
        }
        var move = Smoothing * (perImage - current);
        _secondsPerImage = current + Math.Min(move, Smoothing * current);
    }

    /// <summary>Records one validation that took <paramref name="elapsed"/>.</summary>
    public void AddEvaluation(TimeSpan elapsed)
    {
        _evaluationSeconds += Math.Max(elapsed.TotalSeconds, 0);
        _evaluations++;
    }

    /// <summary>Seconds per training image: the smoothed estimate, or the warm-up mean while there is nothing else; null before the first step.</summary>
    public double? SecondsPerImage =>
        _secondsPerImage ?? (_warmUpImages > 0 ? _warmUpSeconds / _warmUpImages : null);

    /// <summary>Images per second (0 before the first step).</summary>
    public double ImagesPerSecond => SecondsPerImage is { } s && s > 0 ? 1 / s : 0;

    /// <summary>Time for <paramref name="steps"/> more steps of <paramref name="batchSize"/> images and <paramref name="evaluations"/> more validations.</summary>
    public TimeSpan Remaining(int steps, int batchSize, int evaluations)
    {
        var seconds = (SecondsPerImage ?? 0) * Math.Max(steps, 0) * batchSize
                      + (_evaluations > 0 ? _evaluationSeconds / _evaluations * Math.Max(evaluations, 0) : 0);
        return TimeSpan.FromSeconds(Math.Min(seconds, TimeSpan.MaxValue.TotalSeconds / 2));
    }
}
