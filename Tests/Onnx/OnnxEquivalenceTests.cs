using System.Diagnostics;
using EMANet.Models;
using EMANet.Runtime.Networks;
using EMANet.Runtime.Onnx;
using EMANet.Tests.Performance;
using EMANet.Tests.Training;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace EMANet.Tests.Onnx;

/// <summary>
/// ONNX Runtime on the exported graph gives TorchSharp's logits: every network of Models/ (the tiny ones at their declared size,
/// the ResNet-50/101/152 ones at 3x65x65), plus test networks with an auxiliary head and with every other layer kind; random
/// weights, random batch-norm statistics (so the folding is not an identity), the reference being the unfused TorchSharp
/// forward in eval mode. With dynamic axes the same model also runs at a second, odd size and batch 2.
/// Relative error = max |onnx - torch| / max |torch|. The weights come from module initialisation (torch's global generator).
/// </summary>
[Collection(nameof(TorchGlobalState))]
public class OnnxEquivalenceTests(ITestOutputHelper log)
{
    private const double Tolerance = 1e-4;

    public static TheoryData<string, int, int, int, int> Networks()
    {
        var data = new TheoryData<string, int, int, int, int>();
        foreach (var entry in NetworkCatalog.Discover(typeof(EmaNetTiny).Assembly))
        {
            var declared = entry.Descriptor.InputShape;
            bool small = declared.Height <= 129;
            // (size, second size for the dynamic model)
            if (small) data.Add(entry.Name, declared.Height, declared.Width, 75, 90);
            else data.Add(entry.Name, 65, 65, 50, 41);
        }
        data.Add("tiny-aux-test", 33, 33, 41, 30);
        data.Add("onnx-every-layer-test", 40, 36, 48, 28);
        return data;
    }

    internal static NetworkEntry Find(string name) =>
        NetworkCatalog.Find(NetworkCatalog.Discover(typeof(EmaNetTiny).Assembly, typeof(OnnxEquivalenceTests).Assembly), name);

    internal static Tensor Input(ulong seed, params long[] shape)
    {
        using var generator = new torch.Generator(seed);
        return randn(shape, generator: generator);
    }

    internal static double RelativeError(Tensor actual, Tensor expected)
    {
        using var scope = NewDisposeScope();
        Assert.Equal(expected.shape, actual.shape);
        return (actual.to(float64) - expected.to(float64)).abs().max().item<double>() / expected.to(float64).abs().max().item<double>();
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void OnnxRuntime_logits_equal_TorchSharp_static_and_dynamic(string name, int height, int width, int height2, int width2)
    {
        var clock = Stopwatch.StartNew();
        TorchGlobalState.Seed(13);
        var entry = Find(name);
        var shape = new TensorShape(entry.Descriptor.InputShape.Channels, height, width);
        using var network = entry.Create(input: shape);
        FusionTests.RandomizeBatchNorms(network, 13);
        network.eval();
        using var scope = NewDisposeScope();
        var input = Input(1, 1, shape.Channels, height, width);
        var second = Input(2, 2, shape.Channels, height2, width2);
        Tensor expected, expected2;
        using (no_grad())
        {
            expected = network.forward(input);
            expected2 = network.forward(second);
        }

        var torchMs = clock.ElapsedMilliseconds;
        var staticModel = OnnxExporter.ExportBytes(network, new OnnxExportOptions());
        var exportMs = clock.ElapsedMilliseconds - torchMs;
        using var fixedSize = new OnnxRuntimeEngine(staticModel);
        var sessionMs = clock.ElapsedMilliseconds - torchMs - exportMs;
        var errorStatic = RelativeError(fixedSize.Logits(input), expected);
        using var dynamic = new OnnxRuntimeEngine(OnnxExporter.ExportBytes(network, new OnnxExportOptions(DynamicAxes: true)));
        var errorDynamic = RelativeError(dynamic.Logits(input), expected);
        var errorDynamic2 = RelativeError(dynamic.Logits(second), expected2);

        log.WriteLine($"{name}: static {errorStatic:E2} at {shape}, dynamic {errorDynamic:E2} at {shape} and {errorDynamic2:E2} at 2x{shape.Channels}x{height2}x{width2} ({clock.ElapsedMilliseconds} ms: build and torch {torchMs}, one export {exportMs}, one session {sessionMs})");
        Assert.True(errorStatic < Tolerance, $"{name}: static model, relative error {errorStatic:E3}");
        Assert.True(errorDynamic < Tolerance, $"{name}: dynamic model at {shape}, relative error {errorDynamic:E3}");
        Assert.True(errorDynamic2 < Tolerance, $"{name}: dynamic model at {height2}x{width2}, relative error {errorDynamic2:E3}");
    }

    [Fact]
    public void A_fixed_size_model_refuses_another_size()
    {
        TorchGlobalState.Seed(3);
        using var network = new EmaNetTiny();
        using var engine = new OnnxRuntimeEngine(OnnxExporter.ExportBytes(network));
        using var scope = NewDisposeScope();
        var error = Assert.Throws<ArgumentException>(() => engine.Logits(zeros(1, 3, 97, 97)));
        Assert.Contains("takes input 1x3x129x129, got 1x3x97x97", error.Message);
    }
}
