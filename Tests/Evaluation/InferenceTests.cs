using EMANet.Runtime.Evaluation;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace EMANet.Tests.Evaluation;

public class InferenceTests
{
    private static Tensor Images(long batch, long height, long width, int seed = 0)
    {
        var generator = new TorchSharp.torch.Generator((ulong)seed);
        return randn([batch, 3, height, width], generator: generator);
    }

    private static void AssertClose(Tensor expected, Tensor actual, double tolerance = 1e-5)
    {
        Assert.Equal(expected.shape, actual.shape);
        var difference = (expected - actual).abs().max().ToDouble();
        Assert.True(difference <= tolerance, $"largest difference {difference}");
    }

    [Theory]
    [InlineData(13, 21, 8, 0)]
    [InlineData(16, 8, 8, 0)]
    [InlineData(13, 21, 8, 1)]
    public void Whole_image_pads_for_the_network_and_crops_back(int height, int width, int divisor, int remainder)
    {
        using var scope = NewDisposeScope();
        var images = Images(2, height, width);
        var seen = new List<long[]>();
        Tensor Network(Tensor x)
        {
            seen.Add(x.shape);
            Assert.Equal(remainder, x.shape[2] % divisor);
            Assert.Equal(remainder, x.shape[3] % divisor);
            return x * 1; // identity, as a new tensor
        }
        var strategy = new WholeImageInference(divisor, remainder);
        AssertClose(images, strategy.Scores(Network, images));
        Assert.Single(seen);
        Assert.Equal(strategy.PaddedSize(height), seen[0][2]);
        Assert.InRange(seen[0][2] - height, 0, divisor - 1);
    }

    [Fact]
    public void Whole_image_returns_a_tensor_of_its_own_even_for_an_identity_network()
    {
        using var images = Images(1, 8, 8);
        using (var scores = new WholeImageInference().Scores(x => x, images))
            AssertClose(images, scores);
        Assert.False(images.IsInvalid); // disposing the result did not dispose the input
        Assert.Equal(8, images.shape[2]);
    }

    [Fact]
    public void For_an_output_stride_sizes_are_stride_n_plus_one_and_any_size_at_stride_one()
    {
        var stride8 = WholeImageInference.ForOutputStride(8);
        Assert.Equal((8, 1), (stride8.SizeDivisor, stride8.SizeRemainder));
        Assert.Equal(513, stride8.PaddedSize(512));
        var stride1 = WholeImageInference.ForOutputStride(1);   // a network without downsampling: "n + 1" would be no valid remainder
        Assert.Equal((1, 0), (stride1.SizeDivisor, stride1.SizeRemainder));
        Assert.Equal(13, stride1.PaddedSize(13));
    }

    [Fact]
    public void Window_starts_follow_mmsegmentation()
    {
        Assert.Equal(new long[] { 0, 5, 10, 11 }, SlidingWindowInference.WindowStarts(19, 8, 5));
        Assert.Equal(new long[] { 0 }, SlidingWindowInference.WindowStarts(6, 8, 5));
        Assert.Equal(new long[] { 0 }, SlidingWindowInference.WindowStarts(8, 8, 5));
        Assert.Equal(new long[] { 0, 342, 487 }, SlidingWindowInference.WindowStarts(1000, 513, 342));
    }

    [Theory]
    [InlineData(19, 23)]
    [InlineData(5, 6)]
    [InlineData(8, 30)]
    public void Sliding_window_of_an_identity_reproduces_the_input(int height, int width)
    {
        using var scope = NewDisposeScope();
        var images = Images(2, height, width, seed: height);
        var windows = 0;
        Tensor Network(Tensor x)
        {
            windows++;
            Assert.Equal(new long[] { 2, 3, 8, 8 }, x.shape); // always crop-sized
            return x * 1;
        }
        var strategy = new SlidingWindowInference(8, 8, 5, 5);
        AssertClose(images, strategy.Scores(Network, images));
        Assert.Equal(SlidingWindowInference.WindowStarts(height, 8, 5).Length * SlidingWindowInference.WindowStarts(width, 8, 5).Length, windows);
    }

    [Fact]
    public void Sliding_window_averages_overlaps()
    {
        using var scope = NewDisposeScope();
        var images = Images(1, 19, 23);
        var calls = 0;
        // Window n scores n everywhere: each pixel gets the mean of the windows covering it.
        var scores = new SlidingWindowInference(8, 8, 5, 5).Scores(x => full([1, 2, 8, 8], (float)calls++), images);
        Assert.Equal(new long[] { 1, 2, 19, 23 }, scores.shape);
        // Windows start at rows 0, 5, 10, 11 and columns 0, 5, 10, 15 (four per row, numbered row by row).
        // Pixel (0,0) is covered by window 0 only; pixel (6,6) by windows at (0,0), (0,5), (5,0), (5,5) = 0, 1, 4, 5.
        Assert.Equal(16, calls);
        Assert.Equal(0f, scores[0, 0, 0, 0].ToSingle());
        Assert.Equal((0 + 1 + 4 + 5) / 4f, scores[0, 1, 6, 6].ToSingle(), 5);
        // Pixel (18,22) is covered by the last window only.
        Assert.Equal(15f, scores[0, 0, 18, 22].ToSingle());
    }

    [Fact]
    public void Multi_scale_with_flip_averages_softmax_and_unflips()
    {
        using var scope = NewDisposeScope();
        var images = Images(2, 9, 12);
        var inputs = new List<float[]>();
        var single = new MultiScaleInference(new WholeImageInference(1), [1.0], flip: true);
        var scores = single.Scores(x => { inputs.Add(x.data<float>().ToArray()); return x * 1; }, images);
        AssertClose(F.softmax(images, 1), scores);
        Assert.Equal(2, inputs.Count);
        Assert.Equal(images.data<float>().ToArray(), inputs[0]);
        Assert.Equal(images.flip(3).data<float>().ToArray(), inputs[1]);
    }

    [Fact]
    public void Multi_scale_resizes_and_returns_probabilities_at_image_size()
    {
        using var scope = NewDisposeScope();
        // A per-channel constant image is unchanged by bilinear resizing, so every pass gives softmax of it.
        var images = tensor(new float[] { 0.3f, -1.2f, 2.0f }).reshape(1, 3, 1, 1).expand(1, 3, 10, 14).contiguous();
        var sizes = new List<(long, long)>();
        var strategy = new MultiScaleInference(new WholeImageInference(1), flip: true);
        var scores = strategy.Scores(x => { sizes.Add((x.shape[2], x.shape[3])); return x * 1; }, images);
        AssertClose(F.softmax(images, 1), scores);
        AssertClose(ones([1, 10, 14]), scores.sum(1));
        // Default scales 0.5 ... 1.75 of 10x14, halves rounded up, each seen plain and mirrored.
        (long, long)[] expected = [(5, 7), (8, 11), (10, 14), (13, 18), (15, 21), (18, 25)];
        Assert.Equal(expected.SelectMany(e => new[] { e, e }), sizes);
    }

    [Fact]
    public void Predict_gives_the_argmax_per_pixel()
    {
        using var scope = NewDisposeScope();
        var images = Images(2, 5, 7);
        var labels = new WholeImageInference(1).Predict(x => x * 1, images);
        Assert.Equal(new long[] { 2, 5, 7 }, labels.shape);
        Assert.True(labels.eq(images.argmax(1)).all().ToBoolean());
    }

    [Fact]
    public void A_network_with_the_wrong_output_size_is_reported()
    {
        using var scope = NewDisposeScope();
        var images = Images(1, 16, 16);
        var error = Assert.Throws<InvalidOperationException>(() => new WholeImageInference().Scores(x => F.avg_pool2d(x, 2), images));
        Assert.Contains("expected logits B x K x H x W at the input size", error.Message);
        Assert.Throws<ArgumentException>(() => new WholeImageInference().Scores(x => x, zeros(1, 1, 4, 4)));
    }

    [Fact]
    public void Strategies_leave_no_tensors_behind()
    {
        using var images = Images(1, 19, 23);
        var strategies = new IInferenceStrategy[]
        {
            new WholeImageInference(8), new SlidingWindowInference(8, 8, 5, 5),
            new MultiScaleInference(new SlidingWindowInference(8, 8, 5, 5), [0.5, 1.0, 1.5]),
        };
        foreach (var strategy in strategies)
        {
            using var outer = NewDisposeScope();
            var before = outer.DisposablesCount;
            strategy.Scores(x => x * 1, images);
            Assert.Equal(before + 1, outer.DisposablesCount); // only the result
        }
    }
}
