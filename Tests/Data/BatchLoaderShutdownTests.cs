using EMANet.Runtime.Data;
using EMANet.Tests.Training;
using static TorchSharp.torch;

namespace EMANet.Tests.Data;

/// <summary>
/// The loader's shutdown: its worker threads end and the batches it prepared but did not hand out are
/// disposed, after an early <c>break</c> and when the loader is disposed while the consumer waits.
/// In the serial collection: the live-tensor count (<see cref="Tensor.TotalCount"/>) is process-wide.
/// </summary>
[Collection(nameof(TorchGlobalState))]
public sealed class BatchLoaderShutdownTests
{
    private static readonly SyntheticShapesDataset Shapes = new(40, 32, 36, seed: 11);
    private static readonly TrainingAugmentation Augment = new(new AugmentationOptions { CropHeight = 24, CropWidth = 28 });
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static long LiveTensors()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        return Tensor.TotalCount;
    }

    [Fact]
    public void Breaking_out_early_ends_the_workers_and_disposes_the_prefetched_batches()
    {
        var before = LiveTensors();
        using var loader = new SegmentationBatchLoader(Shapes, Augment, new BatchLoaderOptions { BatchSize = 2, Workers = 3, Prefetch = 4 });
        var taken = 0;
        foreach (var batch in loader.Iterations())
        {
            batch.Dispose();
            if (++taken == 2)
            {
                Assert.Equal(3, loader.RunningWorkers);
                break;
            }
        }
        Assert.Equal(0, loader.RunningWorkers);
        Assert.Equal(before, Tensor.TotalCount);
    }

    [Fact]
    public void Disposing_the_loader_while_the_consumer_waits_ends_everything_cleanly()
    {
        var before = LiveTensors();
        using var gate = new ManualResetEventSlim();
        var dataset = new GatedDataset(Shapes, blockedIndex: 2, gate);
        var loader = new SegmentationBatchLoader(dataset, Augment, new BatchLoaderOptions { BatchSize = 2, Shuffle = false, Workers = 2, Prefetch = 3 });
        Exception? consumerError = null;
        var delivered = 0;
        var consumer = new Thread(() =>
        {
            try
            {
                foreach (var batch in loader.Iterations())
                {
                    batch.Dispose();
                    delivered++;
                }
            }
            catch (Exception e)
            {
                consumerError = e;
            }
        }) { IsBackground = true };
        consumer.Start();

        // Batch 1 (samples 2, 3) waits on sample 2; the other worker prepares batches 2 and 3 (samples 4..7) meanwhile.
        Assert.True(dataset.Requested(7).Wait(Patience), "the loader never asked for sample 7");
        Thread.Sleep(200); // the consumer is now blocked waiting for batch 1
        var disposing = new Thread(loader.Dispose) { IsBackground = true };
        disposing.Start();
        Thread.Sleep(100);
        gate.Set(); // the blocked worker finishes the sample in hand, then stops
        Assert.True(disposing.Join(Patience), "Dispose did not return");
        Assert.True(consumer.Join(Patience), "the consumer still waits after Dispose");

        Assert.Equal(1, delivered);
        Assert.Equal(0, loader.RunningWorkers);
        Assert.Equal(before, Tensor.TotalCount); // batches 1, 2 and 3 were prepared and never handed out: all disposed
        Assert.IsType<ObjectDisposedException>(consumerError);
    }

    /// <summary>A dataset whose sample <paramref name="blockedIndex"/> waits for <paramref name="gate"/>, and that tells which samples were asked for.</summary>
    private sealed class GatedDataset(ISegmentationDataset inner, int blockedIndex, ManualResetEventSlim gate) : ISegmentationDataset
    {
        private readonly ManualResetEventSlim[] _requested = [.. Enumerable.Range(0, inner.Count).Select(_ => new ManualResetEventSlim())];

        public string Name => "gated";
        public int Count => inner.Count;
        public int Classes => inner.Classes;
        public string[] ClassNames => inner.ClassNames;

        public ManualResetEventSlim Requested(int index) => _requested[index];

        public SegmentationSample Get(int index)
        {
            _requested[index].Set();
            if (index == blockedIndex) gate.Wait();
            return inner.Get(index);
        }
    }
}
