using EMANet.Runtime.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace EMANet.Tests.Training;

/// <summary>
/// Batches with a pattern a tiny network can learn: smooth random colour fields (5x5 noise upsampled
/// bilinearly) plus a little pixel noise; each pixel's label is the dominant colour of the smooth
/// field (3 classes); the outer one-pixel border is 255.
/// Every batch is a pure function of (seed, iteration).
/// </summary>
internal static class SyntheticData
{
    public const int Size = 33;

    public static (Tensor Images, Tensor Labels) Batch(long seed, int iteration, int batch = 2, int size = Size)
    {
        using var scope = NewDisposeScope();
        using var generator = new torch.Generator((ulong)Trainer.StepSeed(seed ^ 0x5EED, iteration));
        var coarse = rand(new long[] { batch, 3, 5, 5 }, generator: generator) * 2 - 1;
        var field = nn.functional.interpolate(coarse, new long[] { size, size }, mode: InterpolationMode.Bilinear, align_corners: true);
        var images = field + 0.1 * randn(new long[] { batch, 3, size, size }, generator: generator);
        var labels = field.argmax(1);
        var border = ones(new long[] { size, size }, ScalarType.Bool);
        border[TensorIndex.Slice(1, size - 1), TensorIndex.Slice(1, size - 1)] = zeros(new long[] { size - 2, size - 2 }, ScalarType.Bool);
        labels = labels.masked_fill(border, 255);
        return (images.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope());
    }

    public static IBatchSource Source(long seed, int batch = 2) =>
        BatchSources.FromFunction(i => Batch(seed, i, batch), $"synthetic(seed {seed}, batch {batch})");

    /// <summary>The same batch every iteration (for overfitting checks).</summary>
    public static IBatchSource Fixed(long seed, int batch = 4) =>
        BatchSources.FromFunction(_ => Batch(seed, 0, batch), $"synthetic-fixed(seed {seed}, batch {batch})");


    /// <summary>Options for tiny, fast, from-scratch runs: no BN-momentum override, lr update every step, no files unless an output folder is given.</summary>
    public static TrainingOptions Options(int iterations) => new()
    {
        Iterations = iterations,
        BatchSize = 2,
        LearningRate = 0.05,
        PolyUpdateInterval = 1,
        BatchNormMomentum = 0.1,
        Seed = 7,
        CheckpointInterval = 0,
        EvaluationInterval = 0,
        Device = "cpu",
    };
}

/// <summary>Fresh output folders under the system temp folder, deleted when the test ends.</summary>
internal sealed class TempFolders : IDisposable
{
    private readonly List<string> _folders = [];

    public string New(string name)
    {
        var path = Path.Combine(Path.GetTempPath(), "emanet-tests", $"{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        _folders.Add(path);
        return path;
    }

    public void Dispose()
    {
        foreach (var folder in _folders)
        {
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
