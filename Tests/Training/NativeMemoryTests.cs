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
    private const int Side = 33, Batch = 4, Iterations = 400, Interval = 25, WarmUp = 100, SampleEvery = 5;

    /// <summary>The windows whose lowest samples are compared: right after the warm-up, and the end of the run, at least 200 steps later.</summary>
    private const int EarlyFrom = WarmUp, EarlyTo = 150, LateFrom = 350, LateTo = Iterations;

    /// <summary>
    /// One batch: images 4 x 3 x 33 x 33 float32 (52,272 bytes) + labels 4 x 33 x 33 int64 (34,848 bytes) = 87,120 bytes.
    /// Leaked every step, the late window's lowest sample lies at least 200 steps x 87,120 bytes = 16.6 MiB above the early one's.
    /// </summary>
    private const long LeakedBatchBytes = Batch * 3L * Side * Side * sizeof(float) + Batch * (long)Side * Side * sizeof(long);

    /// <summary>
    /// Allowed rise from the early window's lowest sample to the late window's (RSS and malloc'd memory in use): half of
    /// what a batch leaked per step gives at the least, 200 x 87,120 / 2 = 8,712,000 bytes (8.3 MiB). Measured on the 2-core development machine, after a full garbage
    /// collection and malloc_trim at each sample (the numbers are in the test output): both jump up by up to 6 MiB for a
    /// few samples (buffers alive at that moment: evaluation, checkpoint, batches in flight) and come back to a floor
    /// that stays within about 1 MiB. The lowest sample of a window is that floor; a leak raises it, the jumps do not.
    /// </summary>
    private const long AllowedRiseBytes = LeakedBatchBytes * (LateFrom - EarlyTo) / 2;

    /// <summary>Allowed drift of torch's live tensor count after the warm-up; a batch leaked per step would add 2 tensors a step, 200 in all.</summary>
    private const long AllowedTensorDrift = 20;

    private readonly TempFolders _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>Resident set size in bytes: VmRSS of /proc/self/status (Linux), else the runtime's working set.</summary>
    private static long ResidentBytes()
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return Environment.WorkingSet;
        var line = File.ReadLines(status).First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0]) * 1024;   // "VmRSS:   123456 kB"
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint Arena, OrdinaryBlocks, SmallBlocks, MappedBlocks, MappedBytes, MaxTotal, FastBinBytes, InUseBytes, FreeBytes, KeepCost;
    }

    [DllImport("libc", EntryPoint = "mallinfo2")]
    private static extern MallInfo2 NativeMallInfo2();

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int NativeMallocTrim(nuint pad);

    /// <summary>
    /// Bytes glibc's malloc has handed out and not taken back (all arenas, mmapped blocks included): where libtorch's CPU
    /// tensors live. Unlike RSS it does not count memory freed but kept by the allocator. Null without glibc 2.33+.
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

    /// <summary>Returns the free memory of every malloc arena to the system (glibc), so that RSS shows what is in use, not what was kept.</summary>
    private static void TrimMalloc()
    {
        try { NativeMallocTrim(0); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    private sealed record Sample(int Iteration, long Rss, long? Malloc, long Tensors);

    private sealed class MemorySampler : ITrainingMonitor
    {
        public List<Sample> Samples { get; } = [];
        public List<int> Checkpoints { get; } = [];
        public int Evaluations { get; private set; }

        public void OnStep(TrainingProgress progress)
        {
            if (progress.Iteration % SampleEvery != 0) return;
            // The tensor count first: a tensor left to its finalizer instead of disposed still counts here.
            var tensors = Tensor.TotalCount;
            // Then collect and trim, so that RSS shows what the run holds, not garbage or memory the allocator kept.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            TrimMalloc();
            Samples.Add(new Sample(progress.Iteration, ResidentBytes(), MallocInUseBytes(), tensors));
        }

        public void OnEvaluation(int iteration, double meanIoU) => Evaluations++;

        public void OnCheckpoint(int iteration, string path) => Checkpoints.Add(iteration);
    }

    /// <summary>The rise of the lowest sample from the early window to the late one.</summary>
    private static double FloorRise(IReadOnlyList<Sample> samples, Func<Sample, double> value) =>
        samples.Where(s => s.Iteration >= LateFrom && s.Iteration <= LateTo).Min(value)
        - samples.Where(s => s.Iteration >= EarlyFrom && s.Iteration <= EarlyTo).Min(value);

    [Fact]
    public void Rss_malloc_and_live_tensors_stay_flat_over_a_long_run_with_the_real_loader_evaluation_and_checkpoints()
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
        var sampler = new MemorySampler();
        using var trainer = new Trainer(network, options, data.Batches, _temp.New("memory"));
        trainer.Monitors.Add(sampler);

        Assert.True(trainer.Train(data.Evaluate).Completed);

        Assert.Equal(Iterations / Interval, sampler.Evaluations);
        Assert.Equal(Enumerable.Range(1, Iterations / Interval).Select(i => i * Interval), sampler.Checkpoints);
        foreach (var s in sampler.Samples)
            output.WriteLine($"iteration {s.Iteration,4}: RSS {s.Rss / 1048576.0:F2} MiB, malloc in use {s.Malloc / 1048576.0:F2} MiB, live tensors {s.Tensors}");
        var measured = sampler.Samples.Where(s => s.Iteration >= WarmUp).ToList();
        Assert.Equal((Iterations - WarmUp) / SampleEvery + 1, measured.Count);

        var rssRise = FloorRise(measured, s => s.Rss);
        output.WriteLine($"RSS rise, lowest of {LateFrom}..{LateTo} over lowest of {EarlyFrom}..{EarlyTo}: {rssRise / 1048576.0:F2} MiB (bound {AllowedRiseBytes / 1048576.0:F2}; a batch leaked per step: at least {LeakedBatchBytes * (LateFrom - EarlyTo) / 1048576.0:F2})");
        Assert.True(rssRise < AllowedRiseBytes, $"RSS rose by {rssRise / 1048576.0:F2} MiB between the windows (a batch is {LeakedBatchBytes} bytes)");

        if (measured.All(s => s.Malloc is not null))
        {
            var mallocRise = FloorRise(measured, s => s.Malloc!.Value);
            output.WriteLine($"malloc in-use rise: {mallocRise / 1048576.0:F2} MiB (bound {AllowedRiseBytes / 1048576.0:F2})");
            Assert.True(mallocRise < AllowedRiseBytes, $"malloc'd memory in use rose by {mallocRise / 1048576.0:F2} MiB between the windows");
        }
        else output.WriteLine("mallinfo2 is not available (not glibc 2.33+): RSS and the tensor count only");

        var drift = measured.Max(s => Math.Abs(s.Tensors - measured[0].Tensors));
        Assert.True(drift <= AllowedTensorDrift,
            $"the live tensor count moved by {drift} after warm-up: {string.Join(", ", measured.Select(s => $"{s.Iteration}: {s.Tensors}"))}");
    }
}
