using EMANet.Runtime.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace EMANet.Tests.Training;

[Collection(nameof(TorchGlobalState))]
public class SegmentationLossTests
{
    // One image, two classes, three pixels: logits (2, 0) labelled 0, (0, 1) labelled 1, (5, -5) ignored (255).
    private static (Tensor Logits, Tensor Labels) ThreePixels() => (
        tensor(new float[] { 2, 0, 5, 0, 1, -5 }).reshape(1, 2, 1, 3),
        tensor(new long[] { 0, 1, 255 }).reshape(1, 1, 3));

    // -log softmax of the true class: log(1 + e^(other - true)).
    private static readonly double First = Math.Log(1 + Math.Exp(0 - 2));
    private static readonly double Second = Math.Log(1 + Math.Exp(0 - 1));

    [Fact]
    public void All_divides_the_labelled_pixels_loss_by_every_pixel()
    {
        using var scope = NewDisposeScope();
        var (logits, labels) = ThreePixels();
        var loss = SegmentationLoss.CrossEntropy(logits, labels, 255, LossAverage.All);
        Assert.Equal(0, loss.dim());
        Assert.Equal((First + Second) / 3, loss.item<float>(), 6);
    }

    [Fact]
    public void Labelled_divides_by_the_labelled_pixels_only()
    {
        using var scope = NewDisposeScope();
        var (logits, labels) = ThreePixels();
        Assert.Equal((First + Second) / 2, SegmentationLoss.CrossEntropy(logits, labels, 255, LossAverage.Labelled).item<float>(), 6);
    }

    [Fact]
    public void Gradients_follow_the_divisor()
    {
        // d loss / d logit(true class) = (softmax - 1) / divisor at a labelled pixel, 0 at the ignored one.
        foreach (var (average, divisor) in new[] { (LossAverage.All, 3.0), (LossAverage.Labelled, 2.0) })
        {
            using var scope = NewDisposeScope();
            var (logits, labels) = ThreePixels();
            logits.requires_grad = true;
            SegmentationLoss.CrossEntropy(logits, labels, 255, average).backward();
            var gradient = logits.grad!.reshape(6).data<float>().ToArray();
            var softmaxTrue = 1 / (1 + Math.Exp(-2));
            Assert.Equal((softmaxTrue - 1) / divisor, gradient[0], 6);
            Assert.Equal(0f, gradient[2]);
            Assert.Equal(0f, gradient[5]);
        }
    }

    [Fact]
    public void A_batch_without_labelled_pixels_gives_zero_with_all_and_nan_with_labelled()
    {
        using var scope = NewDisposeScope();
        var logits = tensor(new float[] { 1, 2 }).reshape(1, 2, 1, 1);
        var labels = tensor(new long[] { 255 }).reshape(1, 1, 1);
        Assert.Equal(0f, SegmentationLoss.CrossEntropy(logits, labels, 255, LossAverage.All).item<float>());
        Assert.True(float.IsNaN(SegmentationLoss.CrossEntropy(logits, labels, 255, LossAverage.Labelled).item<float>()));
    }

    [Fact]
    public void The_trainer_averages_as_its_option_says()
    {
        // The same first step under both settings: the synthetic labels have a 255 border, so 31 x 31 of the
        // 33 x 33 pixels are labelled and All's loss is Labelled's times 961 / 1089.
        double FirstLoss(LossAverage average)
        {
            TorchGlobalState.Seed(21);
            using var network = new TinyTestNet();
            using var trainer = new Trainer(network, SyntheticData.Options(1) with { LossAverage = average }, SyntheticData.Source(3));
            trainer.Train();
            return trainer.History.Steps[0].Loss;
        }
        var labelled = FirstLoss(LossAverage.Labelled);
        var all = FirstLoss(LossAverage.All);
        Assert.True(labelled > 0.1, $"loss {labelled}");
        Assert.Equal(labelled * 961 / 1089, all, 5);
    }
}
