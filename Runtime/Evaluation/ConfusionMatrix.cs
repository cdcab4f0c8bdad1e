using TorchSharp;
using static TorchSharp.torch;

namespace EMANet.Runtime.Evaluation;

/// <summary>
/// Pixel counts by (true class, predicted class), rows = truth, columns = prediction. Pixels whose label is
/// the ignore index (255) are not counted. Updates from tensors run on the tensors' device with one
/// bincount; only the K x K counts come back to the CPU.
/// </summary>
public sealed class ConfusionMatrix
{
    private readonly long[] _counts;

    public ConfusionMatrix(int classes, int ignoreIndex = 255)
    {
        if (classes < 1)
            throw new ArgumentOutOfRangeException(nameof(classes), classes, "a confusion matrix needs at least one class");
        Classes = classes;
        IgnoreIndex = ignoreIndex;
        _counts = new long[classes * classes];
    }

    public int Classes { get; }
    public int IgnoreIndex { get; }

    /// <summary>Pixels of true class <paramref name="truth"/> predicted as <paramref name="predicted"/>.</summary>
    public long this[int truth, int predicted] => _counts[Index(truth, predicted)];

    /// <summary>All counted pixels.</summary>
    public long Total => _counts.Sum();

    /// <summary>
    /// Counts a batch: <paramref name="predictions"/> and <paramref name="labels"/> are integer tensors of the
    /// same shape (e.g. B x H x W class indices). Labels must lie in [0, Classes) or equal the ignore index;
    /// predictions in [0, Classes).
    /// </summary>
    public void Update(Tensor predictions, Tensor labels)
    {
        if (!predictions.shape.SequenceEqual(labels.shape))
            throw new ArgumentException($"predictions {Shape(predictions)} and labels {Shape(labels)} differ in shape");
        using var scope = NewDisposeScope();
        var truth = labels.to(predictions.device).to_type(ScalarType.Int64).flatten();
        var predicted = predictions.to_type(ScalarType.Int64).flatten();
        // Scalars held for the calls (README.md, "TorchSharp Scalars").
        using var ignoreIndex = IgnoreIndex.ToScalar();
        using var classes = ((long)Classes).ToScalar();
        var keep = truth.ne(ignoreIndex);
        truth = truth.masked_select(keep);
        predicted = predicted.masked_select(keep);
        if (truth.numel() == 0)
            return;
        CheckRange(truth, "label", $" (or {IgnoreIndex}, ignored)");
        CheckRange(predicted, "prediction", "");
        var counts = truth.mul(classes).add(predicted, Scalars.One).bincount(null, (long)Classes * Classes).cpu();
        var values = counts.data<long>().ToArray();
        for (var i = 0; i < _counts.Length; i++)
            _counts[i] += values[i];
    }

    /// <summary>Adds <paramref name="count"/> pixels of class <paramref name="truth"/> predicted as <paramref name="predicted"/>.</summary>
    public void Add(int truth, int predicted, long count = 1)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        _counts[Index(truth, predicted)] += count;
    }

    /// <summary>Adds another matrix's counts (e.g. from another process or data shard).</summary>
    public void Merge(ConfusionMatrix other)
    {
        if (other.Classes != Classes)
            throw new ArgumentException($"cannot merge a {other.Classes}-class matrix into a {Classes}-class one", nameof(other));
        for (var i = 0; i < _counts.Length; i++)
            _counts[i] += other._counts[i];
    }

    public void Reset() => Array.Clear(_counts);

    /// <summary>The metrics of the counts so far; see <see cref="SegmentationMetrics"/> for the conventions.</summary>
    public SegmentationMetrics Compute(IReadOnlyList<string>? classNames = null) => SegmentationMetrics.From(this, classNames);

    private int Index(int truth, int predicted)
    {
        if ((uint)truth >= (uint)Classes || (uint)predicted >= (uint)Classes)
            throw new ArgumentOutOfRangeException(nameof(truth), $"class pair ({truth}, {predicted}) outside [0, {Classes})");
        return truth * Classes + predicted;
    }

    private void CheckRange(Tensor values, string what, string alternative)
    {
        var min = values.min().item<long>();
        var max = values.max().item<long>();
        if (min < 0 || max >= Classes)
            throw new ArgumentException($"{what} values span [{min}, {max}], outside [0, {Classes}){alternative}");
    }

    private static string Shape(Tensor t) => "[" + string.Join(", ", t.shape) + "]";
}
