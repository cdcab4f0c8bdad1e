using EMANet.Runtime.Blocks;
using TorchSharp;
using static TorchSharp.torch;

namespace EMANet.Tests.Blocks;

/// <summary>The EM attention unit against a straightforward per-image computation written here.</summary>
public class EmaUnitTests
{
    private static Tensor Param(EmaUnit unit, string name) => unit.state_dict()[name];

    /// <summary>EMANET.md section 2, one image at a time, in float64, with explicit loops over the iterations.</summary>
    private static (Tensor Output, Tensor FinalBases) Reference(EmaUnit unit, Tensor input)
    {
        using var _ = no_grad();
        var x64 = input.to(float64);
        long b = x64.shape[0], c = x64.shape[1], h = x64.shape[2], w = x64.shape[3];
        var w1 = Param(unit, "conv1.weight").to(float64).reshape(c, c);
        var b1 = Param(unit, "conv1.bias").to(float64);
        var w2 = Param(unit, "conv2.0.weight").to(float64).reshape(c, c);
        var gamma = Param(unit, "conv2.1.weight").to(float64);
        var beta = Param(unit, "conv2.1.bias").to(float64);
        var mean = Param(unit, "conv2.1.running_mean").to(float64);
        var variance = Param(unit, "conv2.1.running_var").to(float64);
        var mu0 = Param(unit, "mu").to(float64)[0];
        var outputs = new List<Tensor>();
        var finals = new List<Tensor>();
        for (long i = 0; i < b; i++)
        {
            var identity = x64[i].reshape(c, h * w);
            var x = w1.matmul(identity) + b1.unsqueeze(1);            // C x N
            var mu = mu0.clone();                                       // C x K
            Tensor z = zeros(1);
            for (int t = 0; t < unit.Iterations; t++)
            {
                var logits = x.t().matmul(mu);                          // N x K
                var e = (logits - logits.max(1, keepdim: true).values).exp();
                z = e / e.sum(1, keepdim: true);
                var zn = z / (1e-6 + z.sum(0, keepdim: true));
                mu = x.matmul(zn);                                      // C x K
                mu = mu / (1e-6 + mu.pow(2).sum(0, keepdim: true).sqrt());
            }
            var recon = mu.matmul(z.t()).clamp_min(0);                  // C x N, ReLU
            var y = w2.matmul(recon);
            y = (y - mean.unsqueeze(1)) / (variance.unsqueeze(1) + 1e-5).sqrt() * gamma.unsqueeze(1) + beta.unsqueeze(1);
            outputs.Add((y + identity).clamp_min(0).reshape(c, h, w));
            finals.Add(mu);
        }
        return (stack(outputs), stack(finals));
    }

    /// <summary>
    /// A unit whose every parameter and buffer (the bases too) is drawn from a local generator: independent of torch's
    /// global generator, which parallel tests seed and draw from.
    /// </summary>
    private static EmaUnit RandomizedUnit(int channels, int bases, ulong seed)
    {
        var unit = new EmaUnit(channels, bases, iterations: 3);
        using var _ = no_grad();
        using var generator = new torch.Generator(seed);
        foreach (var (name, tensor) in unit.state_dict())
        {
            if (name.EndsWith("num_batches_tracked")) continue;
            if (name.EndsWith("running_var")) tensor.uniform_(0.5, 1.5, generator);
            else tensor.normal_(0, 0.3, generator);
        }
        var mu = Param(unit, "mu");                 // 1 x C x K: unit norm over the channels, as initialised
        mu.div_(mu.norm(1, keepdim: true));
        return unit;
    }

    private static Tensor Input(ulong seed, params long[] shape)
    {
        using var generator = new torch.Generator(seed);
        return randn(shape, generator: generator);
    }

    [Fact]
    public void Forward_MatchesReferenceComputation()
    {
        using var unit = RandomizedUnit(8, 5, seed: 7);
        unit.eval();
        var input = Input(7, 2, 8, 4, 6);
        var (expected, _) = Reference(unit, input);
        using var __ = no_grad();
        var actual = unit.forward(input).to(float64);
        Assert.True(allclose(actual, expected, rtol: 1e-4, atol: 1e-5), $"max diff {(actual - expected).abs().max().item<double>()}");
    }

    [Fact]
    public void Conv1_GetsNoGradient_Conv2Does()
    {
        using var unit = RandomizedUnit(6, 4, seed: 3);
        unit.train();
        var input = Input(3, 2, 6, 5, 5).requires_grad_(true);
        unit.forward(input).sum().backward();
        var grads = unit.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad);
        Assert.True(grads["conv1.weight"] is null || grads["conv1.weight"]!.abs().sum().item<float>() == 0);
        Assert.True(grads["conv2.0.weight"]!.abs().sum().item<float>() > 0);
        Assert.True(input.grad!.abs().sum().item<float>() > 0, "the identity path carries gradient to the input");
    }

    [Fact]
    public void UpdateBases_IsTheMomentumAverageOfTheBatchMeanOfFinalBases()
    {
        using var unit = RandomizedUnit(6, 4, seed: 11);
        unit.train();
        var input = Input(11, 3, 6, 4, 4);
        var before = Param(unit, "mu").to(float64).clone();
        // In training mode BN uses batch statistics, but the bases do not depend on BN: compare them only.
        var (_, finals) = Reference(unit, input);
        using (no_grad()) unit.forward(input);
        unit.UpdateBases();
        var expected = 0.9 * before + 0.1 * finals.mean(new long[] { 0 }).unsqueeze(0);
        var after = Param(unit, "mu").to(float64);
        Assert.True(allclose(after, expected, rtol: 1e-4, atol: 1e-6), $"max diff {(after - expected).abs().max().item<double>()}");
        // A second call without a new forward changes nothing.
        unit.UpdateBases();
        Assert.True((Param(unit, "mu").to(float64) == after).all().item<bool>());
    }

    /// <summary>
    /// Two channels, one base: the responsibilities are all 1, so an image's final bases are its mean feature
    /// L2-normalised. With conv1 the identity, image 0 (every pixel (3, 4)) gives (0.6, 0.8) and image 1 (every
    /// pixel (1, 0)) gives (1, 0); the batch mean is (0.8, 0.4). From mu = (0, 1) and m = 0.9:
    /// the authors blend the mean as it is, 0.9 (0, 1) + 0.1 (0.8, 0.4) = (0.08, 0.94);
    /// mmsegmentation blends the normalised mean, 0.9 (0, 1) + 0.1 (2, 1) / sqrt(5) = (0.08944, 0.94472).
    /// </summary>
    [Theory]
    [InlineData(false, 0.08, 0.94)]
    [InlineData(true, 0.2 / 2.2360679774997896, 0.9 + 0.1 / 2.2360679774997896)]
    public void UpdateBases_by_hand_authors_and_mmsegmentation(bool renormalize, double expected0, double expected1)
    {
        using var unit = new EmaUnit(2, bases: 1, iterations: 3, momentum: 0.9, renormalize: renormalize);
        using (no_grad())
        {
            Param(unit, "conv1.weight").copy_(eye(2).reshape(2, 2, 1, 1));
            Param(unit, "conv1.bias").zero_();
            Param(unit, "mu").copy_(tensor(new float[] { 0, 1 }).reshape(1, 2, 1));
        }
        var input = stack([
            tensor(new float[] { 3, 4 }).reshape(2, 1, 1).expand(2, 2, 3).contiguous(),
            tensor(new float[] { 1, 0 }).reshape(2, 1, 1).expand(2, 2, 3).contiguous()]);   // 2 x 2 x 2 x 3
        unit.train();
        using (no_grad()) unit.forward(input);
        unit.UpdateBases();
        var mu = Param(unit, "mu").reshape(2).data<float>().ToArray();
        Assert.Equal(expected0, mu[0], 5);
        Assert.Equal(expected1, mu[1], 5);
    }

    [Fact]
    public void InitialBases_AreUnitNormOverChannels()
    {
        using var unit = new EmaUnit(16, 8);
        var norms = Param(unit, "mu").norm(1);
        Assert.Equal(new long[] { 1, 8 }, norms.shape);
        Assert.True(allclose(norms, ones_like(norms), atol: 1e-4));
    }
    /// <summary>
    /// The MMSeg style (mmsegmentation's EMAModule) on the case above: no conv1, so the input is what the EM iterations
    /// read; the output is the reconstruction alone (each pixel its image's final base: (0.6, 0.8) and (1, 0)); its
    /// momentum 0.1 weighs the new value, bases = 0.9 (0, 1) + 0.1 normalize((0.8, 0.4)) = (0.08944, 0.94472).
    /// </summary>
    [Fact]
    public void MMSegStyle_by_hand_reconstruction_only_and_momentum_of_the_new_value()
    {
        using var unit = new EmaUnit(2, bases: 1, iterations: 3, momentum: 0.1, style: EmaUnitStyle.MMSeg);
        Assert.Equal(new[] { "bases" }, unit.state_dict().Keys.ToArray());
        Assert.Empty(unit.parameters());
        using (no_grad()) Param(unit, "bases").copy_(tensor(new float[] { 0, 1 }).reshape(1, 2, 1));
        var input = stack([
            tensor(new float[] { 3, 4 }).reshape(2, 1, 1).expand(2, 2, 3).contiguous(),
            tensor(new float[] { 1, 0 }).reshape(2, 1, 1).expand(2, 2, 3).contiguous()]);   // 2 x 2 x 2 x 3
        unit.train();
        Tensor output;
        using (no_grad()) output = unit.forward(input);
        var expectedOutput = stack([
            tensor(new float[] { 0.6f, 0.8f }).reshape(2, 1, 1).expand(2, 2, 3),
            tensor(new float[] { 1, 0 }).reshape(2, 1, 1).expand(2, 2, 3)]);
        Assert.True(allclose(output, expectedOutput, atol: 1e-6), output.ToString(TorchSharp.TensorStringStyle.Numpy));
        unit.UpdateBases();
        var bases = Param(unit, "bases").reshape(2).data<float>().ToArray();
        Assert.Equal(0.2 / Math.Sqrt(5), bases[0], 5);
        Assert.Equal(0.9 + 0.1 / Math.Sqrt(5), bases[1], 5);
    }

    [Fact]
    public void MMSegStyle_refuses_Renormalize_which_it_always_does()
    {
        var error = Assert.Throws<ArgumentException>(() => new EmaUnit(4, bases: 2, renormalize: true, style: EmaUnitStyle.MMSeg));
        Assert.Contains("renormalize", error.Message);
    }
}
