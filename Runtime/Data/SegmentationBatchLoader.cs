namespace EMANet.Runtime.Data;

/// <summary>
/// Batches a dataset through a transform. Epoch e visits the samples in an order fixed by (seed, e) and
/// augments each with a generator seeded by (seed, e, sample index), so the batches are the same on every
/// run whatever the number of workers or the timing of threads. With workers, decoding and augmentation
/// run on background threads, up to <see cref="BatchLoaderOptions.Prefetch"/> batches ahead of the consumer.
/// <para>
/// The batches' tensors are created outside any dispose scope; the consumer owns each
/// <see cref="SegmentationBatch"/> it receives and must dispose it. Batches prepared but never handed out
/// are disposed when the enumeration ends (or the loader is disposed).
/// </para>
/// </summary>
public sealed class SegmentationBatchLoader : IDisposable
{
    private readonly List<PrefetchPipeline> _running = [];
    private readonly List<Thread> _workers = [];
    private bool _disposed;

    public SegmentationBatchLoader(ISegmentationDataset dataset, ISampleTransform transform, BatchLoaderOptions? options = null)
    {
        Dataset = dataset;
        Transform = transform;
        Options = options ?? new BatchLoaderOptions();
        if (Options.BatchSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), Options.BatchSize, "batch size must be positive");
        if (Options.Workers < 0)
            throw new ArgumentOutOfRangeException(nameof(options), Options.Workers, "workers must be 0 or more");
        if (Options.Prefetch <= 0)
            throw new ArgumentOutOfRangeException(nameof(options), Options.Prefetch, "prefetch must be at least 1 batch");
        BatchesPerEpoch = Options.DropLast ? dataset.Count / Options.BatchSize : (dataset.Count + Options.BatchSize - 1) / Options.BatchSize;
    }

    public ISegmentationDataset Dataset { get; }
    public ISampleTransform Transform { get; }
    public BatchLoaderOptions Options { get; }
    public int BatchesPerEpoch { get; }

    /// <summary>
    /// Worker threads of this loader that are still alive. Every enumeration of batches starts its own
    /// workers; they end when the enumeration ends (also by an early <c>break</c>) or the loader is disposed,
    /// so this is 0 whenever no enumeration is in progress.
    /// </summary>
    public int RunningWorkers
    {
        get
        {
            lock (_workers)
            {
                _workers.RemoveAll(t => !t.IsAlive);
                return _workers.Count;
            }
        }
    }

    internal void Started(Thread worker)
    {
        lock (_workers)
            _workers.Add(worker);
    }

    /// <summary>The dataset indices in the order epoch <paramref name="epoch"/> visits them.</summary>
    public int[] EpochOrder(int epoch)
    {
        var order = Enumerable.Range(0, Dataset.Count).ToArray();
        if (Options.Shuffle)
            SeededRandom.Derive(Options.Seed, 0x5348_5546 /* "SHUF" */, epoch).Shuffle(order);
        return order;
    }

    /// <summary>The batches of one epoch, starting at batch <paramref name="startBatch"/>.</summary>
    public IEnumerable<SegmentationBatch> Epoch(int epoch, int startBatch = 0)
    {
        if (startBatch < 0 || startBatch > BatchesPerEpoch)
            throw new ArgumentOutOfRangeException(nameof(startBatch), startBatch, $"an epoch has {BatchesPerEpoch} batches");
        return Run(PlanEpoch(epoch, startBatch));
    }

    /// <summary>
    /// An endless stream of batches across epochs; iteration i is batch i mod <see cref="BatchesPerEpoch"/> of
    /// epoch i div <see cref="BatchesPerEpoch"/>. Starting at <paramref name="startIteration"/> gives exactly the
    /// batches an uninterrupted run would have seen from there (for resuming training).
    /// </summary>
    public IEnumerable<SegmentationBatch> Iterations(long startIteration = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(startIteration);
        if (BatchesPerEpoch == 0)
            throw new DatasetException($"{Dataset.Name} has {Dataset.Count} samples, fewer than one batch of {Options.BatchSize}; lower the batch size");
        return Run(PlanIterations(startIteration));
    }

    private IEnumerable<BatchPlan> PlanIterations(long startIteration)
    {
        var epoch = (int)(startIteration / BatchesPerEpoch);
        var start = (int)(startIteration % BatchesPerEpoch);
        for (; ; epoch++, start = 0)
            foreach (var plan in PlanEpoch(epoch, start))
                yield return plan;
    }

    private IEnumerable<BatchPlan> PlanEpoch(int epoch, int startBatch)
    {
        var order = EpochOrder(epoch);
        for (var b = startBatch; b < BatchesPerEpoch; b++)
        {
            var indices = order.AsSpan(b * Options.BatchSize, Math.Min(Options.BatchSize, order.Length - b * Options.BatchSize)).ToArray();
            var seeds = indices.Select(i => SeededRandom.Mix(Options.Seed, 0x4155_474D /* "AUGM" */, epoch, i)).ToArray();
            yield return new BatchPlan(epoch, b, (long)epoch * BatchesPerEpoch + b, indices, seeds);
        }
    }

    private IEnumerable<SegmentationBatch> Run(IEnumerable<BatchPlan> plans)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Options.Workers == 0)
        {
            foreach (var plan in plans)
                yield return Build(plan);
            yield break;
        }

        using var pipeline = new PrefetchPipeline(this, plans.GetEnumerator());
        lock (_running)
            _running.Add(pipeline);
        try
        {
            while (pipeline.TryTake(out var batch))
                yield return batch;
        }
        finally
        {
            lock (_running)
                _running.Remove(pipeline);
        }
    }

    internal SegmentationBatch Build(BatchPlan plan)
    {
        var samples = new PreparedSample[plan.Indices.Length];
        for (var i = 0; i < samples.Length; i++)
            samples[i] = Prepare(plan, i);
        return BatchCollator.Collate(samples, plan.Epoch, plan.IndexInEpoch, plan.Iteration);
    }

    internal PreparedSample Prepare(BatchPlan plan, int position)
    {
        var index = plan.Indices[position];
        try
        {
            return Transform.Apply(Dataset.Get(index), new SeededRandom(plan.Seeds[position]));
        }
        catch (Exception e) when (e is not DatasetException)
        {
            throw new DatasetException($"{Dataset.Name}: preparing sample {index} for batch {plan.IndexInEpoch} of epoch {plan.Epoch} failed: {e.Message}", e);
        }
    }

    /// <summary>
    /// Ends every enumeration in progress: stops and joins its workers and disposes the batches prepared but
    /// not handed out. Safe from another thread while a consumer waits for a batch; that consumer then gets an
    /// <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        PrefetchPipeline[] running;
        lock (_running)
            running = [.. _running];
        foreach (var pipeline in running)
            pipeline.Dispose();
    }
}
