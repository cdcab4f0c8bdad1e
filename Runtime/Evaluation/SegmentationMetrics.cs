using System.Globalization;
using System.Text;

namespace EMANet.Runtime.Evaluation;

/// <summary>
/// Metrics of a confusion matrix, with the conventions of mmsegmentation:
/// per class, IoU = TP / (TP + FP + FN) and accuracy = TP / (TP + FN); a class whose denominator is zero
/// gets NaN and is left out of the means (so <see cref="MeanIoU"/> averages over the classes present in the
/// labels or the predictions, <see cref="MeanAccuracy"/> over the classes present in the labels);
/// <see cref="PixelAccuracy"/> = correct pixels / counted pixels. Pixels labelled 255 were never counted.
/// All values are fractions in [0, 1] (NaN when nothing was counted).
/// </summary>
public sealed record SegmentationMetrics(double MeanIoU, double PixelAccuracy, double MeanAccuracy, IReadOnlyList<ClassMetrics> PerClass, long Pixels)
{
    public static SegmentationMetrics From(ConfusionMatrix matrix, IReadOnlyList<string>? classNames = null)
    {
        var k = matrix.Classes;
        if (classNames is not null && classNames.Count != k)
            throw new ArgumentException($"{classNames.Count} class names for {k} classes", nameof(classNames));
        var perClass = new ClassMetrics[k];
        long correct = 0, total = 0;
        for (var c = 0; c < k; c++)
        {
            long labelled = 0, predicted = 0;
            for (var j = 0; j < k; j++)
            {
                labelled += matrix[c, j];
                predicted += matrix[j, c];
            }
            var tp = matrix[c, c];
            var union = labelled + predicted - tp;
            perClass[c] = new ClassMetrics(classNames?[c] ?? $"class{c}",
                union == 0 ? double.NaN : (double)tp / union,
                labelled == 0 ? double.NaN : (double)tp / labelled,
                labelled, predicted);
            correct += tp;
            total += labelled;
        }
        return new SegmentationMetrics(
            NanMean(perClass.Select(c => c.IoU)),
            total == 0 ? double.NaN : (double)correct / total,
            NanMean(perClass.Select(c => c.Accuracy)),
            perClass, total);
    }

    /// <summary>A plain-text table: one row per class (IoU, accuracy, pixel counts, in percent), then the summary.</summary>
    public string FormatTable()
    {
        var nameWidth = Math.Max(5, PerClass.Max(c => c.Name.Length));
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"class".PadRight(nameWidth)}  {"IoU %",7}  {"Acc %",7}  {"label px",12}  {"pred px",12}");
        text.AppendLine(new string('-', nameWidth + 46));
        foreach (var c in PerClass)
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{c.Name.PadRight(nameWidth)}  {Percent(c.IoU),7}  {Percent(c.Accuracy),7}  {c.LabelPixels,12}  {c.PredictedPixels,12}");
        text.AppendLine(new string('-', nameWidth + 46));
        text.AppendLine(CultureInfo.InvariantCulture,
            $"mIoU {Percent(MeanIoU)}  mAcc {Percent(MeanAccuracy)}  aAcc {Percent(PixelAccuracy)}  ({Pixels} pixels, classes absent from labels and predictions excluded)");
        return text.ToString();
    }

    private static string Percent(double value) =>
        double.IsNaN(value) ? "n/a" : (100 * value).ToString("F2", CultureInfo.InvariantCulture);

    private static double NanMean(IEnumerable<double> values)
    {
        var present = values.Where(v => !double.IsNaN(v)).ToArray();
        return present.Length == 0 ? double.NaN : present.Average();
    }
}
