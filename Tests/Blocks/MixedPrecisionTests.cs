using EMANet.Models;
using EMANet.Runtime.Blocks;
using EMANet.Runtime.Networks;
using EMANet.Tests.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EMANet.Tests.Blocks;

// Seeds torch's process-wide generator: runs in the collection that no other test runs beside.
[Collection(nameof(TorchGlobalState))]
public class MixedPrecisionTests
{
    private static bool Same(Tensor a, Tensor b) => a.eq(b).all().item<bool>();

    private static Tensor RoundToBFloat16(Tensor x) => x.to(ScalarType.BFloat16).to(ScalarType.Float64);

    [Fact]
    public void A_bf16_convolution_computes_in_bf16_and_returns_bf16_in_training_only()
    {
        var generator = new torch.Generator(seed: 11);
        using var conv = new Conv2d(6, 5, 3, stride: 2, padding: 2, dilation: 2, bias: true);
        using var input = randn(new long[] { 2, 6, 9, 11 }, generator: generator);
        using var full = conv.forward(input);

        conv.ComputeDtype = ScalarType.BFloat16;
        using var mixed = conv.forward(input);

        // As under autocast, the activation stays bf16 (what follows, and what backward keeps, is half the size).
        Assert.Equal(ScalarType.BFloat16, mixed.dtype);
        // Independent reference: the convolution in float64 of the bf16-rounded input, weight and bias;
        // the only further error is the rounding of the output to bf16 (2^-8 relative) and fp32 accumulation.
        using var reference = nn.functional.conv2d(RoundToBFloat16(input), RoundToBFloat16(conv.weight), RoundToBFloat16(conv.bias!),
            strides: new long[] { 2 }, padding: new long[] { 2 }, dilation: new long[] { 2 });
        var error = (mixed.to(ScalarType.Float64) - reference).abs();
        var bound = reference.abs() * (1.0 / 128) + 1e-4 * reference.abs().max().item<double>();
        Assert.True(error.le(bound).all().item<bool>(), $"max error {error.max().item<double>()}");
        // A bf16 input is taken as it is.
        using var again = conv.forward(input.to(ScalarType.BFloat16));
        Assert.True(Same(again, mixed));

        // Evaluation mode ignores the setting: float32 in, the float32 convolution out.
        conv.eval();
        using var evaluated = conv.forward(input);
        Assert.Equal(ScalarType.Float32, evaluated.dtype);
        Assert.True(Same(evaluated, full));
    }

    [Fact]
    public void Gradients_reach_the_float32_master_weights()
    {
        var generator = new torch.Generator(seed: 12);
        using var block = new ConvBlock(4, 6, 3, norm: true, relu: true);
        using var input = randn(new long[] { 2, 4, 7, 7 }, generator: generator);
        var reference = Gradients(block, input, null);
        var mixed = Gradients(block, input, ScalarType.BFloat16);
        foreach (var (name, grad) in mixed)
        {
            Assert.Equal(ScalarType.Float32, grad.dtype);
            var relative = (grad - reference[name]).norm().item<float>() / reference[name].norm().item<float>();
            Assert.True(relative < 0.05, $"{name}: relative gradient difference {relative}");
        }
        Assert.All(block.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
    }

    private static Dictionary<string, Tensor> Gradients(ConvBlock block, Tensor input, ScalarType? dtype)
    {
        MixedPrecision.Apply(block, dtype is null ? TrainingPrecision.Float32 : TrainingPrecision.BFloat16Mixed);
        block.train();
        block.zero_grad();
        using (var scope = NewDisposeScope())
            block.forward(input).to(ScalarType.Float32).square().sum().backward();
        return block.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone());
    }

    [Fact]
    public void Under_mixed_precision_the_EM_iterations_run_in_bf16_on_the_float32_bases()
    {
        TorchGlobalState.Seed(13);   // the unit's initial bases
        using var unit = new EmaUnit(16, bases: 4, iterations: 3);
        var generator = new torch.Generator(seed: 13);
        using var input = randn(new long[] { 2, 16, 5, 5 }, generator: generator).relu_();
        unit.train();
        unit.CaptureResponsibilities = true;
        using var full = unit.forward(input);
        Assert.Equal(ScalarType.Float32, unit.LastResponsibilities!.dtype);
        using var fullResponsibilities = unit.LastResponsibilities.clone();

        MixedPrecision.Apply(unit, TrainingPrecision.BFloat16Mixed);
        // bf16 features, as the convolution before the unit hands them on under mixed precision.
        using var mixed = unit.forward(input.to(ScalarType.BFloat16));
        // As under autocast (bmm on its bf16 list, softmax and the norms following their input): the E and M steps and
        // the reconstruction in bf16, so the responsibilities are bf16; the bases buffer stays the float32 master.
        Assert.Equal(ScalarType.BFloat16, unit.LastResponsibilities!.dtype);
        Assert.Equal(ScalarType.BFloat16, mixed.dtype);
        Assert.Equal(ScalarType.Float32, unit.BasesBuffer.dtype);
        // bf16 rounding of the features, bases and scores: measured 0.006 here.
        var relative = (unit.LastResponsibilities.to(ScalarType.Float32) - fullResponsibilities).norm().item<float>() / fullResponsibilities.norm().item<float>();
        Assert.True(relative is > 0f and < 0.05f, $"relative responsibility difference {relative}");

        // The moving average takes the bf16 batch mean into the float32 buffer.
        using var before = unit.BasesBuffer.clone();
        unit.UpdateBases();
        Assert.Equal(ScalarType.Float32, unit.BasesBuffer.dtype);
        Assert.False(Same(before, unit.BasesBuffer));
    }

    [Fact]
    public void Generated_network_routes_every_convolution_and_keeps_activations_bf16_in_training()
    {
        TorchGlobalState.Seed(3);
        using var network = new TinyTestNet();
        using var input = randn(2, 3, 33, 33);
        network.train();
        TorchGlobalState.Seed(30);   // the same dropout masks in both forwards
        using var full = network.forward(input);

        network.SetTrainingPrecision(TrainingPrecision.BFloat16Mixed);

        Assert.Equal(TrainingPrecision.BFloat16Mixed, network.TrainingPrecision);
        var convolutions = network.modules().OfType<Conv2d>().ToArray();
        // Every convolution the compiler counted (the cost table's Conv2d rows) reads the setting.
        Assert.Equal(TinyTestNet.Descriptor.CostTable.Count(r => r.Kind == "Conv2d"), convolutions.Length);
        Assert.All(convolutions, c => Assert.Equal(ScalarType.BFloat16, c.ComputeDtype));
        TorchGlobalState.Seed(30);
        using var mixed = network.forward(input);
        // Logits in bf16, as a model's output under autocast; the loss casts them up (SegmentationLoss).
        Assert.Equal(ScalarType.BFloat16, mixed.dtype);
        Assert.All(network.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        // bf16 activations (2^-9 relative rounding) through ~20 layers, batch statistics over 2 x 5 x 5 values at
        // the backbone's end, and the EM softmax: measured 0.071 here; a wrong path (a float32 network, garbage) is 0 or ~1.
        var relative = (mixed.to(ScalarType.Float32) - full).norm().item<float>() / full.norm().item<float>();
        Assert.True(relative is > 0f and < 0.15f, $"relative logit difference {relative}");

        // Evaluation (validation, prediction) runs in float32 whatever the setting.
        network.eval();
        using var evaluated = network.forward(input);
        Assert.Equal(ScalarType.Float32, evaluated.dtype);

        network.SetTrainingPrecision(TrainingPrecision.Float32);
        Assert.All(convolutions, c => Assert.Null(c.ComputeDtype));
        network.train();
        TorchGlobalState.Seed(30);
        using var again = network.forward(input);
        Assert.True(Same(again, full));
    }

    [Fact]
    public void Bare_convolutions_and_the_classifier_run_in_bf16_too()
    {
        TorchGlobalState.Seed(4);
        using var network = new BareConvolutionsTestNet();
        network.train();
        using var input = randn(2, 3, 9, 9);
        using var full = network.forward(input);
        network.SetTrainingPrecision(TrainingPrecision.BFloat16Mixed);
        using var mixed = network.forward(input);
        // The logits are the classifier's output, bf16 when it ran in bf16.
        Assert.Equal(ScalarType.BFloat16, mixed.dtype);
        var relative = (mixed.to(ScalarType.Float32) - full).norm().item<float>() / full.norm().item<float>();
        Assert.True(relative is > 0f and < 0.02f, $"relative logit difference {relative}");
    }

    [Fact]
    public void The_loss_of_bf16_logits_is_computed_in_float32()
    {
        var generator = new torch.Generator(seed: 13);
        using var logits = randn(new long[] { 2, 4, 5, 5 }, generator: generator);
        using var labels = randint(0, 4, new long[] { 2, 5, 5 }, generator: generator);
        using var half = logits.to(ScalarType.BFloat16);
        using var expected = nn.functional.cross_entropy(half.to(ScalarType.Float32), labels, reduction: nn.Reduction.None).mean();
        using var loss = EMANet.Runtime.Training.SegmentationLoss.CrossEntropy(half, labels, 255, EMANet.Runtime.Training.LossAverage.All);
        Assert.Equal(ScalarType.Float32, loss.dtype);
        Assert.Equal(expected.item<float>(), loss.item<float>());
    }

    [Fact]
    public void A_fused_network_refuses_mixed_precision_and_fusing_resets_it()
    {
        TorchGlobalState.Seed(5);
        using var network = new EmaNetTiny(3, new TensorShape(3, 33, 33));
        network.SetTrainingPrecision(TrainingPrecision.BFloat16Mixed);
        network.FuseForInference();
        Assert.Equal(TrainingPrecision.Float32, network.TrainingPrecision);
        var error = Assert.Throws<InvalidOperationException>(() => network.SetTrainingPrecision(TrainingPrecision.BFloat16Mixed));
        Assert.Contains("fused", error.Message);
    }

    [Fact]
    public void Mixed_precision_training_follows_the_float32_loss_curve()
    {
        var fp32 = TrainFifteenSteps(TrainingPrecision.Float32);
        var mixed = TrainFifteenSteps(TrainingPrecision.BFloat16Mixed);
        var curves = $"fp32: {string.Join(", ", fp32)}\nbf16-mixed: {string.Join(", ", mixed)}";
        Assert.True(mixed.Skip(10).Average() < 0.9 * mixed.Take(3).Average(), curves);
        for (int i = 0; i < fp32.Count; i++)
            Assert.True(Math.Abs(mixed[i] - fp32[i]) < 0.05 * fp32[i], $"step {i + 1}: {curves}");
    }

    /// <summary>15 SGD steps of a tiny EMANet from a fixed initialisation on a fixed learnable batch; the losses.</summary>
    private static List<float> TrainFifteenSteps(TrainingPrecision precision)
    {
        TorchGlobalState.Seed(1);
        using var network = new EmaNetTiny(3, new TensorShape(3, 33, 33));
        network.SetTrainingPrecision(precision);
        network.train();
        using var optimizer = optim.SGD(network.parameters().Where(p => p.requires_grad), 0.01, momentum: 0.9);
        using var images = randn(4, 3, 33, 33);
        using var labels = (images[.., 0] > 0).to(int64);   // learnable: the label is whether the first channel is positive
        var losses = new List<float>();
        for (int step = 0; step < 15; step++)
        {
            using var scope = NewDisposeScope();
            TorchGlobalState.Seed(100 + step);   // the same dropout masks in both runs
            optimizer.zero_grad();
            var loss = EMANet.Runtime.Training.SegmentationLoss.CrossEntropy(network.forward(images), labels, 255, EMANet.Runtime.Training.LossAverage.All);
            Assert.Equal(ScalarType.Float32, loss.dtype);
            loss.backward();
            optimizer.step();
            foreach (var unit in network.EmaUnits) unit.UpdateBases();
            losses.Add(loss.item<float>());
        }
        return losses;
    }
}

/// <summary>Only bare convolutions (no block): the generated forward convolves them itself.</summary>
[SegmentationNetwork("bare-convolutions-test", Classes = 3, InputHeight = 9, InputWidth = 9)]
public partial class BareConvolutionsTestNet
{
    [Conv(8, 3)] private readonly Conv2d stem;
    [ReLU] private readonly ReLU relu;
    [Classifier] private readonly Conv2d classifier;
}
