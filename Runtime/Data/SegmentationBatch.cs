using static TorchSharp.torch;

namespace EMANet.Runtime.Data;

/// <summary>
/// One batch: <see cref="Images"/> float32 B x 3 x H x W (normalised), <see cref="Labels"/> int64 B x H x W
/// (255 = ignore), both on the CPU. When the samples differ in size, each is placed at the top left and the
/// rest is padded (image 0 after normalisation, label 255); <see cref="Sizes"/> holds each sample's own size.
/// <para>
/// Ownership: the tensors are created on loader threads, outside every dispose scope, so no scope of the
/// caller will free them. The consumer owns the batch: dispose it (or move its tensors into a scope) when
/// done with it.
/// </para>
/// </summary>
public sealed class SegmentationBatch : IDisposable
{
    internal SegmentationBatch(Tensor images, Tensor labels, IReadOnlyList<string> ids, IReadOnlyList<string> sources,
        IReadOnlyList<(int Height, int Width)> sizes, int epoch, int indexInEpoch, long iteration)
    {
        Images = images;
        Labels = labels;
        Ids = ids;
        Sources = sources;
        Sizes = sizes;
        Epoch = epoch;
        IndexInEpoch = indexInEpoch;
        Iteration = iteration;
    }

    public Tensor Images { get; }
    public Tensor Labels { get; }
    public IReadOnlyList<string> Ids { get; }
    public IReadOnlyList<string> Sources { get; }
    public IReadOnlyList<(int Height, int Width)> Sizes { get; }
    public int Epoch { get; }
    public int IndexInEpoch { get; }

    /// <summary>Position in the endless stream of <see cref="SegmentationBatchLoader.Iterations"/>: epoch * batches per epoch + index.</summary>
    public long Iteration { get; }

    public int Count => Ids.Count;

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
