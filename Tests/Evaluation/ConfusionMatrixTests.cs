using EMANet.Runtime.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace EMANet.Tests.Evaluation;

public class ConfusionMatrixTests
{
    // Pairs (truth, prediction): (0,0) (0,1) (1,1) (1,1) / (2,2) (2,0) ignored (1,2).
    private static readonly long[] Labels = [0, 0, 1, 1, 2, 2, 255, 1];
    private static readonly long[] Predictions = [0, 1, 1, 1, 2, 0, 2, 2];

    private static ConfusionMatrix Counted(int classes = 3)
    {
        var matrix = new ConfusionMatrix(classes);
        using var labels = tensor(Labels).reshape(2, 4);
        using var predictions = tensor(Predictions).reshape(2, 4);
        matrix.Update(predictions, labels);
        return matrix;
    }

    [Fact]
    public void Update_counts_pairs_and_skips_the_ignore_label()
    {
        var matrix = Counted();
        long[,] expected = { { 1, 1, 0 }, { 0, 2, 1 }, { 1, 0, 1 } };
        for (var t = 0; t < 3; t++)
            for (var p = 0; p < 3; p++)
                Assert.Equal(expected[t, p], matrix[t, p]);
        Assert.Equal(7, matrix.Total);
    }

    [Fact]
    public void Metrics_match_hand_computation()
    {
        var metrics = Counted().Compute(["bg", "cat", "dog"]);
        // IoU: bg 1/(2+2-1) = 1/3, cat 2/(3+3-2) = 1/2, dog 1/(2+2-1) = 1/3.
        Assert.Equal(1.0 / 3, metrics.PerClass[0].IoU, 12);
        Assert.Equal(0.5, metrics.PerClass[1].IoU, 12);
        Assert.Equal(1.0 / 3, metrics.PerClass[2].IoU, 12);
        Assert.Equal(7.0 / 18, metrics.MeanIoU, 12);
        Assert.Equal(4.0 / 7, metrics.PixelAccuracy, 12);
        Assert.Equal((0.5 + 2.0 / 3 + 0.5) / 3, metrics.MeanAccuracy, 12);
        Assert.Equal((3L, 3L), (metrics.PerClass[1].LabelPixels, metrics.PerClass[1].PredictedPixels));
        Assert.Equal(7, metrics.Pixels);
    }

    [Fact]
    public void Absent_classes_are_left_out_of_the_means_but_false_positives_count()
    {
        var absent = Counted(classes: 4).Compute();
        Assert.True(double.IsNaN(absent.PerClass[3].IoU));
        Assert.True(double.IsNaN(absent.PerClass[3].Accuracy));
        Assert.Equal(7.0 / 18, absent.MeanIoU, 12);

        var matrix = Counted(classes: 4);
        matrix.Add(truth: 0, predicted: 3, count: 2); // class 3 predicted, never labelled
        var predictedOnly = matrix.Compute();
        Assert.Equal(0.0, predictedOnly.PerClass[3].IoU);
        Assert.True(double.IsNaN(predictedOnly.PerClass[3].Accuracy));
        // bg is now 1/(4+2-1) = 1/5; the mean covers four classes.
        Assert.Equal((0.2 + 0.5 + 1.0 / 3 + 0) / 4, predictedOnly.MeanIoU, 12);
        Assert.Equal((0.25 + 2.0 / 3 + 0.5) / 3, predictedOnly.MeanAccuracy, 12);
    }

    [Fact]
    public void Updates_accumulate_merge_and_reset()
    {
        var matrix = Counted();
        matrix.Merge(Counted());
        Assert.Equal(4, matrix[1, 1]);
        Assert.Equal(14, matrix.Total);
        matrix.Reset();
        Assert.Equal(0, matrix.Total);
        Assert.True(double.IsNaN(matrix.Compute().MeanIoU));
    }

    [Fact]
    public void Out_of_range_values_are_errors()
    {
        var matrix = new ConfusionMatrix(3);
        using var badLabel = tensor(new long[] { 0, 7 });
        using var badPrediction = tensor(new long[] { 0, 3 });
        using var ok = tensor(new long[] { 0, 1 });
        Assert.Contains("label values span [0, 7]", Assert.Throws<ArgumentException>(() => matrix.Update(ok, badLabel)).Message);
        Assert.Contains("prediction values span [0, 3]", Assert.Throws<ArgumentException>(() => matrix.Update(badPrediction, ok)).Message);
        using var shorter = tensor(new long[] { 0 });
        Assert.Throws<ArgumentException>(() => matrix.Update(shorter, ok));
        Assert.Equal(0, matrix.Total);
    }

    [Fact]
    public void Byte_and_int32_tensors_are_accepted()
    {
        var matrix = new ConfusionMatrix(3);
        using var labels = tensor(new byte[] { 0, 2, 255 });
        using var predictions = tensor(new int[] { 0, 1, 1 });
        matrix.Update(predictions, labels);
        Assert.Equal(1, matrix[0, 0]);
        Assert.Equal(1, matrix[2, 1]);
        Assert.Equal(2, matrix.Total);
    }

    [Fact]
    public void Table_lists_classes_and_summary()
    {
        var table = Counted(classes: 4).Compute(["bg", "cat", "dog", "cow"]).FormatTable();
        Assert.Contains("cat", table);
        Assert.Contains("50.00", table);
        Assert.Matches(@"cow\s+n/a\s+n/a\s+0\s+0", table);
        Assert.Contains("mIoU 38.89  mAcc 55.56  aAcc 57.14", table);
    }
}
