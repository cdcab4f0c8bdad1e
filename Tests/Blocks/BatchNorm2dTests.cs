using TorchSharp;
using static TorchSharp.torch;
using BatchNorm2d = EMANet.Runtime.Blocks.BatchNorm2d;

namespace EMANet.Tests.Blocks;

/// <summary>
/// The project's BatchNorm2d (README.md, "TorchSharp Scalars") against TorchSharp's <c>nn.BatchNorm2d</c> on the same inputs and
/// parameters: outputs, gradients, running statistics and the batch count in training and evaluation, state-dict keys, momentum null.
/// </summary>
public class BatchNorm2dTests
{
    private const int Channels = 3;

    private static Tensor Input(int step, torch.Generator generator) =>
        randn(new long[] { 2, Channels, 4, 5 }, generator: generator).mul(tensor(1.0f + step)).add(tensor(0.5f * step));

    /// <summary>Both modules with the same random affine parameters (so γ, β are not the identity).</summary>
    private static (BatchNorm2d Ours, TorchSharp.Modules.BatchNorm2d Reference) Pair(double? momentum, double eps = 1e-5)
    {
        var ours = new BatchNorm2d(Channels, eps: eps, momentum: momentum);
        var reference = nn.BatchNorm2d(Channels, eps: eps);
        reference.momentum = momentum;
        using var generator = new torch.Generator(17);
        using (no_grad())
        {
            using var gamma = rand(new long[] { Channels }, generator: generator).add(tensor(0.5f));
            using var beta = randn(new long[] { Channels }, generator: generator);
            ours.weight!.copy_(gamma);
            reference.weight!.copy_(gamma);
            ours.bias!.copy_(beta);
            reference.bias!.copy_(beta);
        }
        return (ours, reference);
    }

    private static void AssertClose(Tensor expected, Tensor actual, string what) =>
        Assert.True(allclose(actual, expected, rtol: 1e-6, atol: 1e-6),
            $"{what}: max |difference| {(actual.to(float64).sub(expected.to(float64))).abs().max().item<double>()}");

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.5)]
    [InlineData(null)]
    public void TrainingThenEvaluation_MatchesTorchSharpsBatchNorm(double? momentum)
    {
        var (ours, reference) = Pair(momentum);
        using var _ours = ours;
        using var _reference = reference;
        using var generator = new torch.Generator(5);
        ours.train();
        reference.train();
        for (int step = 0; step < 4; step++)
        {
            using var scope = NewDisposeScope();
            var x = Input(step, generator);
            var xOurs = x.clone().requires_grad_(true);
            var xReference = x.clone().requires_grad_(true);
            var yOurs = ours.forward(xOurs);
            var yReference = reference.forward(xReference);
            AssertClose(yReference, yOurs, $"training output, step {step}");
            // The same upstream gradient through both.
            var upstream = randn(yOurs.shape, generator: generator);
            yOurs.mul(upstream).sum().backward();
            yReference.mul(upstream).sum().backward();
            AssertClose(xReference.grad!, xOurs.grad!, $"input gradient, step {step}");
            AssertClose(reference.weight!.grad!, ours.weight!.grad!, $"weight gradient, step {step}");
            AssertClose(reference.bias!.grad!, ours.bias!.grad!, $"bias gradient, step {step}");
            AssertClose(reference.running_mean!, ours.running_mean!, $"running mean after step {step}");
            AssertClose(reference.running_var!, ours.running_var!, $"running variance after step {step}");
            Assert.Equal(reference.num_batches_tracked!.item<long>(), ours.num_batches_tracked!.item<long>());
            Assert.Equal(step + 1L, ours.num_batches_tracked!.item<long>());
        }
        Assert.Equal(ScalarType.Int64, ours.num_batches_tracked!.dtype);

        ours.eval();
        reference.eval();
        using (no_grad())
        using (var scope = NewDisposeScope())
        {
            var x = Input(7, generator);
            AssertClose(reference.forward(x), ours.forward(x), "evaluation output");
            Assert.Equal(4L, ours.num_batches_tracked!.item<long>());   // evaluation does not count
        }
    }

    [Fact]
    public void MomentumNull_RunningMeanIsTheAverageOfTheBatchMeans()
    {
        using var ours = new BatchNorm2d(Channels, momentum: null);
        using var generator = new torch.Generator(3);
        using var scope = NewDisposeScope();
        ours.train();
        var batchMeans = new List<Tensor>();
        for (int step = 0; step < 3; step++)
        {
            var x = Input(step, generator);
            batchMeans.Add(x.mean(new long[] { 0, 2, 3 }));
            using (no_grad()) ours.forward(x);
        }
        AssertClose(stack(batchMeans).mean(new long[] { 0 }), ours.running_mean!, "cumulative running mean");
    }

    [Fact]
    public void StateDict_HasTorchSharpsKeysInOrder_AndLoadsTorchSharpsState()
    {
        var (ours, reference) = Pair(0.1);
        using var _ours = ours;
        using var _reference = reference;
        Assert.Equal(new[] { "weight", "bias", "running_mean", "running_var", "num_batches_tracked" }, ours.state_dict().Keys);
        Assert.Equal(reference.state_dict().Keys, ours.state_dict().Keys);

        using var generator = new torch.Generator(11);
        reference.train();
        using (no_grad())
        using (var scope = NewDisposeScope())
            for (int step = 0; step < 2; step++) reference.forward(Input(step, generator));
        using var fresh = new BatchNorm2d(Channels);
        fresh.load_state_dict(reference.state_dict());
        AssertClose(reference.running_var!, fresh.running_var!, "loaded running variance");
        Assert.Equal(2L, fresh.num_batches_tracked!.item<long>());
    }

    [Fact]
    public void ToFloat64_ConvertsParametersAndStatistics_KeepsTheCountInt64()
    {
        using var ours = new BatchNorm2d(Channels);
        ours.to(ScalarType.Float64);
        Assert.Equal(ScalarType.Float64, ours.weight!.dtype);
        Assert.Equal(ScalarType.Float64, ours.running_mean!.dtype);
        Assert.Equal(ScalarType.Int64, ours.num_batches_tracked!.dtype);
        Assert.Equal(ScalarType.Float64, ours.state_dict()["running_var"].dtype);
        Assert.Single(ours.parameters(), p => ReferenceEquals(p, ours.weight));
        using var generator = new torch.Generator(1);
        using var scope = NewDisposeScope();
        ours.train();
        var y = ours.forward(Input(0, generator).to(ScalarType.Float64));
        Assert.Equal(ScalarType.Float64, y.dtype);
        Assert.Equal(1L, ours.num_batches_tracked!.item<long>());
    }

    [Fact]
    public void BadInput_IsNamed()
    {
        using var ours = new BatchNorm2d(Channels);
        using var flat = zeros(2, Channels);
        Assert.Contains("4-D", Assert.Throws<ArgumentException>(() => ours.forward(flat)).Message);
        using var wrong = zeros(1, Channels + 1, 2, 2);
        Assert.Contains("has 3 channels, but the input has 4", Assert.Throws<ArgumentException>(() => ours.forward(wrong)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchNorm2d(Channels, momentum: 1.5));
    }
}
