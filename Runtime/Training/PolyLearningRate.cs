namespace EMANet.Runtime.Training;

/// <summary>
/// The polynomial decay of the recipe: lr(it) = base * (1 - it' / total)^power, where it' is the
/// iteration rounded down to a multiple of the update interval (the authors recompute the lr every
/// 10 iterations; interval 1 is PyTorch's PolynomialLR in closed form).
/// </summary>
public static class PolyLearningRate
{
    public static double At(double baseRate, int iteration, int totalIterations, double power, int updateInterval = 1)
    {
        if (totalIterations <= 0) throw new ArgumentOutOfRangeException(nameof(totalIterations), totalIterations, "must be positive");
        if (updateInterval <= 0) throw new ArgumentOutOfRangeException(nameof(updateInterval), updateInterval, "must be positive");
        var effective = Math.Clamp(iteration - iteration % updateInterval, 0, totalIterations);
        return baseRate * Math.Pow(1.0 - (double)effective / totalIterations, power);
    }

    public static double At(TrainingOptions options, int iteration) =>
        At(options.LearningRate, iteration, options.Iterations, options.PolyPower, options.PolyUpdateInterval);
}
