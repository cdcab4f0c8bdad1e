using System.Runtime.InteropServices;
using EMANet.Runtime.Networks;
using EMANet.Runtime.Training;
using EMANet.Runtime.Workflows;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace EMANet.Tests.Training;

/// <summary>
/// Native memory over a long run through the real pipeline: the synthetic dataset through SegmentationDataSource (the
/// SegmentationBatchLoader with its prefetch threads and augmentation), evaluation through SegmentationEvaluator, and
/// checkpoints, curves and the TensorBoard log written to disk, as <c>emanet train</c> runs them.
/// In the global-generator collection: the Trainer re-seeds torch's generator every step, and the process-wide tensor
/// count is only meaningful when no other test runs meanwhile.
/// </summary>
[Collection(nameof(TorchGlobalState))]
public class NativeMemoryTests(ITestOutputHelper output) : IDisposable
{
    private const int Side = 33, Batch = 4, Iterations = 200, Interval = 25, WarmUp = 75;

    /// <summary>
    /// One leaked batch: images 4 x 3 x 33 x 33 float32 (52,272 bytes) + labels 4 x 33 x 33 int64 (34,848 bytes) = 87,120 bytes;
    /// leaked every step over the 125 measured steps (75 to 200) that is 10.9 MB (10.4 MiB).
    /// </summary>
    private const long LeakedBatchBytes = Batch * 3L * Side * Side * sizeof(float) + Batch * (long)Side * Side * sizeof(long);

    /// <summary>
    /// Allowed RSS growth between the end of the warm-up (iteration 75: three evaluations and checkpoints done) and any
    /// later sample. Measured on the 2-core development machine (the numbers are in the test output): 1.5 MiB, while the
    /// RSS still rose by about 6 MiB during the first 75 iterations (allocator arenas of the loader threads, libtorch's
    /// first-call caches). 6 MiB is four times the measured growth; a batch leaked per step (10.4 MiB) exceeds it by 70 %.
    /// </summary>
    private const long AllowedGrowthBytes = 6L << 20;

    /// <summary>
    /// Allowed growth of malloc'd memory in use (glibc mallinfo2) after the warm-up: a leaked batch per step would add
    /// 10.4 MiB; measured growth is given in the test output. PLACEHOLDER
    /// </summary>
    private const long AllowedMallocGrowthBytes = 3L << 20;

    /// <summary>Allowed drift of torch's live tensor count: batches in flight in the loader's prefetch queue vary by a few.</summary>
    private const long AllowedTensorDrift = 40;

    private readonly TempFolders _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>Resident set size in bytes: VmRSS of /proc/self/status (Linux), else the runtime's working set.</summary>
    private static long ResidentBytes()
    {
        const string status = "/proc/self/status";
        if (File.Exists(status))
        {
            var line = File.ReadLines(status).First(l => l.StartsWith("VmRSS:"));
            var kilobytes = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0]);
            return kilobytes * 1024;
        }
        return Environment.WorkingSet;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint Arena, OrdinaryBlocks, SmallBlocks, MappedBlocks, MappedBytes, MaxTotal, FastBinBytes, InUseBytes, FreeBytes, KeepCost;
    }

    [DllImport("libc", EntryPoint = "mallinfo2")]
    private static extern MallInfo2 NativeMallInfo2();

    /// <summary>
    /// Bytes glibc's malloc has handed out and not taken back (all arenas, mmapped blocks included): where libtorch's CPU
    /// tensors live. Unlike RSS it does not count memory that was freed but kept by the allocator. Null without glibc 2.33+.
    /// </summary>
    private static long? MallocInUseBytes()
    {
        try
        {
            var info = NativeMallInfo2();
            return (long)(info.InUseBytes + info.MappedBytes);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    private sealed class MemorySampler(int interval) : ITrainingMonitor
    {
        public List<(int Iteration, long Rss, long Tensors, long? Malloc)> Samples { get; } = [];

        public void OnStep(TrainingProgress progress)
        {
            if (progress.Iteration % interval != 0) return;
            // The tensor count before any collection: a tensor left to its finalizer instead of disposed still counts here.
            var tensors = Tensor.TotalCount;
            // Collect managed garbage before reading RSS, so that it shows what the run holds, not what the GC has not reached yet.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            Samples.Add((progress.Iteration, ResidentBytes(), tensors, MallocInUseBytes()));
        }
    }

    [Fact]
    public void Rss_and_live_tensors_stay_flat_over_a_long_run_with_the_real_loader_evaluation_and_checkpoints()
    {
        var input = new TensorShape(3, Side, Side);
        var classes = EMANet.Runtime.Data.SyntheticShapesDataset.DefaultClasses;
        TorchGlobalState.Seed(3);
        using var network = new TinyTestNet(classes, input);
        var options = SyntheticData.Options(Iterations) with
        {
            BatchSize = Batch,
            EvaluationInterval = Interval,
            CheckpointInterval = Interval,
            LogInterval = Interval,
        };
        var data = SegmentationDataSource.Open(new TrainingDataRequest("synthetic", input, classes, options), validationLimit: 8);
        var folder = _temp.New("memory");
        var evaluations = 0;
        var checkpoints = new List<int>();
        var sampler = new MemorySampler(Interval);
        using var trainer = new Trainer(network, options, data.Batches, folder);
        trainer.Monitors.Add(sampler);
        trainer.Monitors.Add(new CheckpointCounter(checkpoints));

        var result = trainer.Train(module => { evaluations++; return data.Evaluate!(module); });

        Assert.True(result.Completed);
        Assert.Equal(Iterations / Interval, evaluations);
        Assert.Equal(Enumerable.Range(1, Iterations / Interval).Select(i => i * Interval), checkpoints);
        var samples = sampler.Samples;
        foreach (var (iteration, rss, tensors, malloc) in samples)
            output.WriteLine($"iteration {iteration,4}: RSS {rss / 1048576.0:F1} MiB, malloc in use {malloc / 1048576.0:F1} MiB, live tensors {tensors}");
        var start = samples.Single(s => s.Iteration == WarmUp);
        var end = samples[^1];
        Assert.Equal(Iterations, end.Iteration);
        var growth = samples.Where(s => s.Iteration >= WarmUp).Max(s => s.Rss) - start.Rss;
        output.WriteLine($"RSS growth after warm-up: {growth / 1048576.0:F1} MiB (bound {AllowedGrowthBytes / 1048576.0:F1} MiB; a batch leaked per step would add {LeakedBatchBytes * (Iterations - WarmUp) / 1048576.0:F1} MiB)");
        Assert.True(LeakedBatchBytes * (Iterations - WarmUp) > AllowedGrowthBytes * 3 / 2, "the bound must catch a leaked batch per step");
        Assert.True(growth < AllowedGrowthBytes,
            $"RSS grew by {growth / 1048576.0:F1} MiB between iterations {WarmUp} and {Iterations}: {string.Join(", ", samples.Select(s => $"{s.Iteration}: {s.Rss / 1048576.0:F1}"))}");
        if (start.Malloc is { } mallocStart)
        {
            var mallocGrowth = samples.Where(s => s.Iteration >= WarmUp).Max(s => s.Malloc!.Value) - mallocStart;
            output.WriteLine($"malloc in-use growth after warm-up: {mallocGrowth / 1048576.0:F2} MiB (bound {AllowedMallocGrowthBytes / 1048576.0:F2} MiB)");
            Assert.True(mallocGrowth < AllowedMallocGrowthBytes,
                $"malloc'd memory in use grew by {mallocGrowth / 1048576.0:F2} MiB between iterations {WarmUp} and {Iterations}: {string.Join(", ", samples.Select(s => $"{s.Iteration}: {s.Malloc / 1048576.0:F2}"))}");
        }
        else output.WriteLine("mallinfo2 is not available here (not glibc 2.33+): only RSS and the tensor count are checked");
        var drift = samples.Where(s => s.Iteration >= WarmUp).Select(s => Math.Abs(s.Tensors - start.Tensors)).Max();
        Assert.True(drift <= AllowedTensorDrift,
            $"live tensor count drifted by {drift} after warm-up: {string.Join(", ", samples.Select(s => $"{s.Iteration}: {s.Tensors}"))}");
    }

    private sealed class CheckpointCounter(List<int> iterations) : ITrainingMonitor
    {
        public void OnCheckpoint(int iteration, string path) => iterations.Add(iteration);
    }
}
