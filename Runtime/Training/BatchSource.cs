using static TorchSharp.torch;

namespace EMANet.Runtime.Training;

/// <summary>
/// Where the trainer's batches come from: images float B x C x H x W (normalised), labels int64
/// B x H x W (class indices, the ignore index for void). The trainer takes ownership of every
/// tensor it receives and disposes it after the step.
/// </summary>
public interface IBatchSource
{
    /// <summary>What the batches are made of (recorded in the run configuration), e.g. "voc-trainaug:/data/VOC 513x513".</summary>
    string Description { get; }

    /// <summary>
    /// The batches of iterations <paramref name="startIteration"/>, <paramref name="startIteration"/> + 1, ...:
    /// at least as many as the run still needs. For a resumed run to equal an uninterrupted one,
    /// the batch of an iteration must depend only on the source's seed and the iteration number
    /// (not on how many batches were drawn before in this process).
    /// </summary>
    IEnumerable<(Tensor Images, Tensor Labels)> Batches(int startIteration);
}

/// <summary>Adapters from the usual shapes of a data pipeline to <see cref="IBatchSource"/>.</summary>
public static class BatchSources
{
    /// <summary>A source that computes the batch of each iteration directly (random access).</summary>
    public static IBatchSource FromFunction(Func<int, (Tensor Images, Tensor Labels)> batchOfIteration, string description) =>
        new FunctionSource(batchOfIteration, description);

    /// <summary>
    /// A source built from epochs: <paramref name="epoch"/>(e) enumerates epoch e's batches (its
    /// shuffle seeded from the run seed and e), each epoch exactly <paramref name="batchesPerEpoch"/>
    /// long. Iteration i is batch i mod n of epoch i / n; a resume skips whole epochs without
    /// enumerating them and disposes the batches it skips inside the first one.
    /// </summary>
    public static IBatchSource FromEpochs(Func<int, IEnumerable<(Tensor Images, Tensor Labels)>> epoch, int batchesPerEpoch, string description)
    {
        if (batchesPerEpoch <= 0) throw new ArgumentOutOfRangeException(nameof(batchesPerEpoch), batchesPerEpoch, "must be positive");
        return new EpochSource(epoch, batchesPerEpoch, description);
    }

    private sealed class FunctionSource(Func<int, (Tensor Images, Tensor Labels)> batchOfIteration, string description) : IBatchSource
    {
        public string Description => description;

        public IEnumerable<(Tensor Images, Tensor Labels)> Batches(int startIteration)
        {
            for (var iteration = startIteration; ; iteration++) yield return batchOfIteration(iteration);
        }
    }

    private sealed class EpochSource(Func<int, IEnumerable<(Tensor Images, Tensor Labels)>> epoch, int batchesPerEpoch, string description) : IBatchSource
    {
        public string Description => description;

        public IEnumerable<(Tensor Images, Tensor Labels)> Batches(int startIteration)
        {
            var skip = startIteration % batchesPerEpoch;
            for (var e = startIteration / batchesPerEpoch; ; e++)
            {
                var index = 0;
                foreach (var batch in epoch(e))
                {
                    if (index >= batchesPerEpoch) break;
                    if (index++ < skip)
                    {
                        batch.Images.Dispose();
                        batch.Labels.Dispose();
                        continue;
                    }
                    yield return batch;
                }
                if (index < batchesPerEpoch)
                    throw new InvalidOperationException($"epoch {e} of '{description}' gave {index} batches; the source declared {batchesPerEpoch} per epoch");
                skip = 0;
            }
        }
    }
}
