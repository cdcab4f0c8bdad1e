using System.Runtime.InteropServices;
using EMANet.Models;
using EMANet.Runtime.Data;
using EMANet.Runtime.Evaluation;
using EMANet.Runtime.Networks;
using EMANet.Runtime.Onnx;
using EMANet.Runtime.Onnx.Proto;
using EMANet.Runtime.Onnx.Quantization;
using EMANet.Tests.Performance;
using EMANet.Tests.Training;
using Google.Protobuf;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace EMANet.Tests.Onnx;

/// <summary>
/// Static int8 QDQ quantization: the scheme's arithmetic against hand-computed answers, a one-convolution model whose int8 output
/// is computed independently here from the ONNX operator definitions, and a whole network's structure and accuracy.
/// </summary>
[Collection(nameof(TorchGlobalState))]
public class QuantizationTests(ITestOutputHelper log) : IDisposable
{
    private readonly TempFolders _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(-1f, 3f, 4f / 255, 64)]      // zero point round(1 / (4/255)) = round(63.75)
    [InlineData(0.5f, 2f, 2f / 255, 0)]      // widened to hold 0: [0, 2]
    [InlineData(-2f, -0.5f, 2f / 255, 255)]  // widened to [-2, 0]
    [InlineData(0f, 0f, 1f, 0)]              // no width: scale 1
    public void Activation_scale_and_zero_point(float min, float max, float scale, int zeroPoint)
    {
        var (s, z) = QuantizationParameters.Activation(new ActivationRange(min, max));
        Assert.Equal(scale, s, 6);
        Assert.Equal(zeroPoint, z);
    }

    [Fact]
    public void Weights_are_symmetric_int8_per_output_channel()
    {
        float[] weights = [0.5f, -1.0f, 0.25f, /* channel 1 */ 0.5f, -0.2f, 0f, /* channel 2 */ 0f, 0f, 0f];
        var (values, scales) = QuantizationParameters.Weights(weights, 3);
        Assert.Equal([1f / 127, 0.5f / 127, 1f], scales);
        // 0.5 * 127 = 63.5 rounds half to even (64); 0.25 * 127 = 31.75 -> 32; -0.2 / (0.5 / 127) = -50.8 -> -51.
        Assert.Equal(new sbyte[] { 64, -127, 32, 127, -51, 0, 0, 0, 0 }, values);
        Assert.Throws<ArgumentException>(() => QuantizationParameters.Weights(weights, 2));
    }

    [Fact]
    public void Bias_is_int32_at_input_scale_times_weight_scale()
    {
        var (values, scales) = QuantizationParameters.Bias([1f, -0.25f], 0.5f, [0.01f, 0.1f]);
        Assert.Equal([0.005f, 0.05f], scales);
        Assert.Equal([200, -5], values);
    }

    /// <summary>x (1x1x1x6) -> Conv 1x1 (w = 2, b = 0.5) -> Relu -> y, calibrated on x = [-1, 0, 1, 2].</summary>
    private static ModelProto ConvReluModel()
    {
        var graph = new GraphProto { Name = "conv-relu" };
        graph.Input.Add(ValueInfo("x"));
        graph.Output.Add(ValueInfo("y"));
        graph.Initializer.Add(Floats("w", [2f], 1, 1, 1, 1));
        graph.Initializer.Add(Floats("b", [0.5f], 1));
        var conv = new NodeProto { OpType = "Conv", Name = "conv" };
        conv.Input.AddRange(["x", "w", "b"]);
        conv.Output.Add("c");
        var relu = new NodeProto { OpType = "Relu", Name = "relu" };
        relu.Input.Add("c");
        relu.Output.Add("r");
        var identity = new NodeProto { OpType = "Identity", Name = "out" };
        identity.Input.Add("r");
        identity.Output.Add("y");
        graph.Node.AddRange([conv, relu, identity]);
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        return model;

        static ValueInfoProto ValueInfo(string name)
        {
            var shape = new TensorShapeProto();
            foreach (var d in new long[] { 1, 1, 1, 6 }) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
            return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } } };
        }

        static TensorProto Floats(string name, float[] values, params long[] dims)
        {
            var t = new TensorProto { Name = name, DataType = 1, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())) };
            t.Dims.AddRange(dims);
            return t;
        }
    }

    [Theory]
    [InlineData(OnnxGraphOptimization.None)]   // the QDQ operators as defined, run one by one
    [InlineData(OnnxGraphOptimization.All)]    // ONNX Runtime's fused integer kernel (QLinearConv)
    public void A_quantized_conv_relu_gives_the_int8_answer_computed_from_the_operator_definitions(OnnxGraphOptimization optimization)
    {
        using var scope = NewDisposeScope();
        var calibration = tensor(new float[] { -1f, 0f, 1f, 2f, 0.5f, -0.5f }, [1, 1, 1, 6]);
        var quantized = StaticQuantization.Quantize(ConvReluModel(), [calibration], "test");
        Assert.DoesNotContain(quantized.Graph.Node, n => n.OpType == "Relu");   // folded into the output's QuantizeLinear

        float[] x = [-1f, -0.3f, 0.77f, 2f, 1.234f, -0.01f];
        using var engine = new OnnxRuntimeEngine(quantized.ToByteArray(), new OnnxRuntimeOptions(1, optimization));
        var actual = engine.Logits(tensor(x, [1, 1, 1, 6])).data<float>().ToArray();

        // Independently, from QuantizeLinear / DequantizeLinear's definitions: input range [-1, 2], Relu output range [0, 4.5].
        double inScale = 3.0 / 255, outScale = 4.5 / 255, weightScale = 2.0 / 127;
        int inZero = 85;                                              // round(1 / (3/255))
        double biasScale = (float)inScale * (float)weightScale;
        double bias = Math.Round(0.5 / biasScale, MidpointRounding.ToEven) * biasScale;
        for (int i = 0; i < x.Length; i++)
        {
            var xq = Math.Clamp(Math.Round(x[i] / inScale, MidpointRounding.ToEven) + inZero, 0, 255);
            var conv = (xq - inZero) * inScale * (127 * weightScale) + bias;
            var expected = Math.Clamp(Math.Round(conv / outScale, MidpointRounding.ToEven), 0, 255) * outScale;
            Assert.True(Math.Abs(actual[i] - expected) < 1e-5, $"x = {x[i]}: {actual[i]} from ONNX Runtime, {expected} from the definitions");
        }
    }

    [Fact]
    public void A_quantized_network_keeps_the_float_models_predictions()
    {
        TorchGlobalState.Seed(31);
        using var network = new EmaNetTiny(classes: 5);
        FusionTests.RandomizeBatchNorms(network, 31);
        network.eval();
        var dataset = DatasetFactory.Parse("synthetic", new DatasetOptions { Split = "train", Size = 65, Count = 16, Classes = 5 });
        var strategy = WholeImageInference.For(network);
        var float32 = OnnxExporter.Export(network, new OnnxExportOptions(DynamicAxes: true));
        var int8 = StaticQuantization.Quantize(network, new OnnxExportOptions(DynamicAxes: true), dataset, strategy, images: 16);

        // Structure: every Conv reads dequantized int8 weights per output channel and a dequantized input, and writes one QuantizeLinear.
        var initializers = int8.Graph.Initializer.ToDictionary(t => t.Name);
        var producers = int8.Graph.Node.SelectMany(n => n.Output.Select(o => (o, n))).ToDictionary(p => p.o, p => p.n);
        var convs = int8.Graph.Node.Where(n => n.OpType == "Conv").ToArray();
        Assert.Equal(float32.Graph.Node.Count(n => n.OpType == "Conv"), convs.Length);
        foreach (var conv in convs)
        {
            Assert.Equal("DequantizeLinear", producers[conv.Input[0]].OpType);
            var weights = producers[conv.Input[1]];
            Assert.Equal("DequantizeLinear", weights.OpType);
            Assert.Equal((int)TensorProto.Types.DataType.Int8, initializers[weights.Input[0]].DataType);
            Assert.Equal(initializers[weights.Input[0]].Dims[0], initializers[weights.Input[1]].Dims[0]);
            Assert.Contains(weights.Attribute, a => a.Name == "axis" && a.I == 0);
            var readers = int8.Graph.Node.Where(n => n.Input.Contains(conv.Output[0])).ToArray();
            Assert.Equal("QuantizeLinear", Assert.Single(readers).OpType);
        }
        Assert.Contains(int8.MetadataProps, p => p.Key == "quantization" && p.Value.Contains("16 images of synthetic", StringComparison.Ordinal));

        // Accuracy on an image calibration did not see: the int8 logits follow the float ones.
        var image = DatasetFactory.Parse("synthetic", new DatasetOptions { Split = "val", Size = 65, Count = 1, Classes = 5 }).Get(0);
        using var scope = NewDisposeScope();
        var input = tensor(ImageNormalization.ToPlanar(image.Image), [1, 3, image.Height, image.Width]);
        using var floatEngine = new OnnxRuntimeEngine(float32.ToByteArray());
        using var int8Engine = new OnnxRuntimeEngine(int8.ToByteArray());
        var expected = strategy.Scores(floatEngine.Logits, input);
        var actual = strategy.Scores(int8Engine.Logits, input);
        var relative = OnnxEquivalenceTests.RelativeError(actual, expected);
        var agreement = actual.argmax(1).eq(expected.argmax(1)).to(float32Type).mean().item<float>();
        log.WriteLine($"int8 vs float32: relative error {relative:E2}, argmax agreement {agreement:P2}");
        Assert.True(relative < 0.1, $"relative error {relative:E3}");
        Assert.True(agreement > 0.9, $"argmax agreement {agreement:P2}");
    }

    private static readonly ScalarType float32Type = ScalarType.Float32;

    /// <summary>Every network of Models/ quantizes: each Conv runs on int8 weights, the file loads in ONNX Runtime and gives finite
    /// logits of the float model's shape (ResNet networks at 3x65x65, random weights, so only the structure and the run are asserted).</summary>
    [Theory]
    [MemberData(nameof(OnnxEquivalenceTests.Networks), MemberType = typeof(OnnxEquivalenceTests))]
    public void Every_network_quantizes_and_runs(string name, int height, int width, int height2, int width2)
    {
        _ = (height2, width2);
        TorchGlobalState.Seed(33);
        var entry = OnnxEquivalenceTests.Find(name);
        var shape = new TensorShape(entry.Descriptor.InputShape.Channels, height, width);
        using var network = entry.Create(input: shape);
        FusionTests.RandomizeBatchNorms(network, 33);
        network.eval();
        using var scope = NewDisposeScope();
        var batches = new[] { OnnxEquivalenceTests.Input(1, 1, shape.Channels, height, width), OnnxEquivalenceTests.Input(2, 1, shape.Channels, height, width) };
        var float32 = OnnxExporter.Export(network, new OnnxExportOptions(Input: shape));
        var int8 = StaticQuantization.Quantize(float32, batches, "two random images");
        var convs = int8.Graph.Node.Where(n => n.OpType == "Conv").ToArray();
        Assert.Equal(float32.Graph.Node.Count(n => n.OpType == "Conv"), convs.Length);
        var producers = int8.Graph.Node.SelectMany(n => n.Output.Select(o => (o, n))).ToDictionary(p => p.o, p => p.n);
        Assert.All(convs, conv => Assert.Equal("DequantizeLinear", producers[conv.Input[1]].OpType));
        using var engine = new OnnxRuntimeEngine(int8.ToByteArray());
        var logits = engine.Logits(OnnxEquivalenceTests.Input(3, 1, shape.Channels, height, width));
        Assert.Equal(new long[] { 1, ((ISegmentationNetwork)network).Classes, height, width }, logits.shape);
        Assert.True(logits.isfinite().all().item<bool>(), $"{name}: non-finite int8 logits");
    }

    [OnnxCheckerFact]
    public void OnnxChecker_accepts_a_quantized_model()
    {
        TorchGlobalState.Seed(32);
        using var network = new EmaNetTiny(classes: 5);
        var dataset = DatasetFactory.Parse("synthetic", new DatasetOptions { Split = "train", Size = 65, Count = 2, Classes = 5 });
        var path = Path.Combine(_temp.New("int8-checker"), "tiny-int8.onnx");
        OnnxExporter.WriteFile(StaticQuantization.Quantize(network, new OnnxExportOptions(), dataset, WholeImageInference.For(network), images: 2), path);
        var (exit, output) = OnnxChecker.Run([path]);
        Assert.True(exit == 0, output);
    }
}
