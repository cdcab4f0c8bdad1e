namespace EMANet.Runtime.Data;

/// <summary>How <see cref="SegmentationBatchLoader"/> batches, orders and prefetches.</summary>
public sealed record BatchLoaderOptions
{
    public int BatchSize { get; init; } = 8;

    /// <summary>A new random order every epoch (from <see cref="Seed"/> and the epoch number); dataset order otherwise.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Leave out the last, incomplete batch of an epoch (training); keep it for evaluation.</summary>
    public bool DropLast { get; init; } = true;

    /// <summary>Seeds the shuffles and every sample's augmentation.</summary>
    public int Seed { get; init; }

    /// <summary>Background threads that decode and augment; 0 does the work on the consumer's thread, on demand.</summary>
    public int Workers { get; init; } = 2;

    /// <summary>Batches prepared ahead of the one the consumer holds (with at least one worker).</summary>
    public int Prefetch { get; init; } = 3;

    /// <summary>Options for evaluation: dataset order, every sample, the given batch size.</summary>
    public static BatchLoaderOptions ForEvaluation(int batchSize = 1, int workers = 2) =>
        new() { BatchSize = batchSize, Shuffle = false, DropLast = false, Workers = workers };
}
