using EMANet.Runtime.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace EMANet.Tests.Data;

public class BatchLoaderTests
{
    private static readonly SyntheticShapesDataset Shapes = new(22, 32, 36, seed: 11);
    private static readonly TrainingAugmentation Augment = new(new AugmentationOptions { CropHeight = 24, CropWidth = 28 });

    private static (float[] Images, long[] Labels, string[] Ids) Snapshot(SegmentationBatch batch)
    {
        using (batch)
            return (batch.Images.data<float>().ToArray(), batch.Labels.data<long>().ToArray(), batch.Ids.ToArray());
    }

    private static List<(float[] Images, long[] Labels, string[] Ids)> Epochs(int workers, int prefetch, params int[] epochs)
    {
        using var loader = new SegmentationBatchLoader(Shapes, Augment,
            new BatchLoaderOptions { BatchSize = 4, Seed = 5, Workers = workers, Prefetch = prefetch });
        return epochs.SelectMany(e => loader.Epoch(e).Select(Snapshot)).ToList();
    }

    [Fact]
    public void Batches_have_the_documented_shapes_and_types()
    {
        using var loader = new SegmentationBatchLoader(Shapes, Augment, new BatchLoaderOptions { BatchSize = 4, Workers = 2 });
        Assert.Equal(5, loader.BatchesPerEpoch); // 22 / 4, last incomplete batch dropped
        var count = 0;
        foreach (var batch in loader.Epoch(0))
        {
            using (batch)
            {
                Assert.Equal(new long[] { 4, 3, 24, 28 }, batch.Images.shape);
                Assert.Equal(ScalarType.Float32, batch.Images.dtype);
                Assert.Equal(new long[] { 4, 24, 28 }, batch.Labels.shape);
                Assert.Equal(ScalarType.Int64, batch.Labels.dtype);
                Assert.Equal(count, batch.IndexInEpoch);
                Assert.Equal(count, batch.Iteration);
                var labels = batch.Labels.data<long>().ToArray();
                Assert.All(labels, l => Assert.True(l is >= 0 and < 6 or 255));
            }
            count++;
        }
        Assert.Equal(5, count);
    }

    [Fact]
    public void Same_seed_gives_the_same_batches_whatever_the_threads()
    {
        var reference = Epochs(0, 1, 0, 1);
        foreach (var (workers, prefetch) in new[] { (1, 1), (3, 2), (4, 4) })
        {
            var other = Epochs(workers, prefetch, 0, 1);
            Assert.Equal(reference.Count, other.Count);
            for (var i = 0; i < reference.Count; i++)
            {
                Assert.Equal(reference[i].Ids, other[i].Ids);
                Assert.Equal(reference[i].Images, other[i].Images);
                Assert.Equal(reference[i].Labels, other[i].Labels);
            }
        }
    }

    [Fact]
    public void Each_epoch_has_its_own_order_and_augmentation()
    {
        using var loader = new SegmentationBatchLoader(Shapes, Augment, new BatchLoaderOptions { BatchSize = 4, Seed = 5, Workers = 0 });
        var order0 = loader.EpochOrder(0);
        var order1 = loader.EpochOrder(1);
        Assert.Equal(Enumerable.Range(0, 22), order0.Order());
        Assert.NotEqual(order0, order1);
        var ids = loader.Epoch(0).Select(Snapshot).SelectMany(b => b.Ids).ToArray();
        Assert.Equal(order0.Take(20).Select(i => i.ToString()), ids);

        // The same sample in two epochs is augmented differently.
        using var plain = new SegmentationBatchLoader(Shapes, Augment, new BatchLoaderOptions { BatchSize = 1, Shuffle = false, Workers = 0 });
        var first = Snapshot(plain.Epoch(0).First());
        var second = Snapshot(plain.Epoch(1).First());
        Assert.Equal(first.Ids, second.Ids);
        Assert.NotEqual(first.Images, second.Images);
    }

    [Fact]
    public void Resuming_at_an_iteration_continues_the_same_stream()
    {
        using var loader = new SegmentationBatchLoader(Shapes, Augment, new BatchLoaderOptions { BatchSize = 4, Seed = 2, Workers = 2 });
        var full = loader.Iterations().Take(9).Select(Snapshot).ToList(); // crosses from epoch 0 into epoch 1
        var resumed = loader.Iterations(startIteration: 4).Take(5).Select(Snapshot).ToList();
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(full[4 + i].Ids, resumed[i].Ids);
            Assert.Equal(full[4 + i].Images, resumed[i].Images);
        }
        var fromEpoch = loader.Epoch(1, startBatch: 2).Select(Snapshot).First();
        Assert.Equal(full[7].Labels, fromEpoch.Labels);
    }

    [Fact]
    public void Evaluation_batches_keep_every_sample_and_pad_mixed_sizes()
    {
        var mixed = new MixedSizeDataset();
        using var loader = new SegmentationBatchLoader(mixed, EvaluationTransform.Instance, BatchLoaderOptions.ForEvaluation(batchSize: 2));
        var batches = loader.Epoch(0).ToList();
        Assert.Equal(2, batches.Count);
        using var first = batches[0];
        using var last = batches[1];
        Assert.Equal(new long[] { 2, 3, 6, 7 }, first.Images.shape);
        Assert.Equal([(4, 7), (6, 5)], first.Sizes);
        var labels = first.Labels.data<long>().ToArray();
        Assert.Equal(0, labels[0 * 42 + 3 * 7 + 6]);   // sample 0 (4x7), row 3, column 6: inside
        Assert.Equal(255, labels[0 * 42 + 4 * 7 + 0]); // sample 0, row 4: padding
        Assert.Equal(1, labels[1 * 42 + 5 * 7 + 4]);   // sample 1 (6x5), row 5, column 4: inside
        Assert.Equal(255, labels[1 * 42 + 0 * 7 + 5]); // sample 1, column 5: padding
        Assert.Equal(0f, first.Images.data<float>()[1, 0, 0, 6]);
        Assert.Equal(new long[] { 1, 3, 3, 3 }, last.Images.shape);
    }

    [Fact]
    public void A_failing_sample_surfaces_with_its_name_and_stops_cleanly()
    {
        var failing = new FailingDataset(Shapes, failAt: 9);
        using var loader = new SegmentationBatchLoader(failing, Augment, new BatchLoaderOptions { BatchSize = 4, Shuffle = false, Workers = 2, Prefetch = 3 });
        var delivered = 0;
        var error = Assert.Throws<DatasetException>(() =>
        {
            foreach (var batch in loader.Epoch(0))
            {
                batch.Dispose();
                delivered++;
            }
        });
        Assert.Equal(2, delivered); // batches 0 and 1; sample 9 is in batch 2
        Assert.Contains("preparing sample 9", error.Message);
        Assert.Contains("sample 9 is broken", error.Message);
    }

    [Fact]
    public void Leaving_early_stops_the_workers()
    {
        using var loader = new SegmentationBatchLoader(Shapes, Augment, new BatchLoaderOptions { BatchSize = 2, Workers = 3, Prefetch = 4 });
        using (var batch = loader.Iterations().First())
            Assert.Equal(0, batch.Iteration);
        foreach (var batch in loader.Epoch(3))
        {
            batch.Dispose();
            break;
        }
    }

    private sealed class MixedSizeDataset : ISegmentationDataset
    {
        public string Name => "mixed";
        public int Count => 3;
        public int Classes => 2;
        public string[] ClassNames => ["a", "b"];

        public SegmentationSample Get(int index)
        {
            var (h, w) = index switch { 0 => (4, 7), 1 => (6, 5), _ => (3, 3) };
            var sample = LabelColoredSample.Create(h, w, $"m{index}");
            Array.Fill(sample.Label.Labels, (byte)(index % 2));
            return sample;
        }
    }

    private sealed class FailingDataset(ISegmentationDataset inner, int failAt) : ISegmentationDataset
    {
        public string Name => "failing";
        public int Count => inner.Count;
        public int Classes => inner.Classes;
        public string[] ClassNames => inner.ClassNames;

        public SegmentationSample Get(int index) =>
            index == failAt ? throw new InvalidOperationException($"sample {index} is broken") : inner.Get(index);
    }
}
