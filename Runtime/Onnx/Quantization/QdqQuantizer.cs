using System.Runtime.InteropServices;
using EMANet.Runtime.Onnx.Proto;
using Google.Protobuf;

namespace EMANet.Runtime.Onnx.Quantization;

/// <summary>
/// Static int8 quantization of a float32 ONNX model in the QDQ format (QuantizeLinear / DequantizeLinear pairs around
/// float operators, which ONNX Runtime, TensorRT and OpenVINO fuse into integer kernels), as ONNX Runtime's
/// <c>quantize_static(..., quant_format=QDQ, per_channel=True)</c> writes it, for the operators that carry a segmentation
/// network's cost:
/// <list type="bullet">
/// <item><b>Conv</b> with constant weights: the activation input and the output get Q/DQ (uint8, calibrated); the weights become
/// int8 per output channel (axis 0) and the bias int32 at scale input × weight, each behind a DequantizeLinear — the pattern ONNX
/// Runtime turns into QLinearConv;</item>
/// <item><b>Add</b> of two tensors that are both quantized (a residual connection): output Q/DQ (QLinearAdd);</item>
/// <item><b>MaxPool</b> of a quantized tensor: output Q/DQ with the input's scale and zero point (a uint8 MaxPool);</item>
/// <item>a <b>Relu</b> that is the only reader of a quantized Conv or Add output is removed and the output's range is the ReLU's:
/// with zero point 0, QuantizeLinear's saturation is the ReLU (ONNX Runtime's ReluQuantFusion does the same).</item>
/// </list>
/// Everything else stays float32 and reads dequantized values: the EMA unit's EM iterations (MatMul, Softmax, the L2
/// normalisation), resizes, concatenations and global pooling. Each reader of a quantized tensor gets its own DequantizeLinear
/// (ONNX Runtime's node-unit form). Activation ranges come from calibration (<see cref="ActivationCalibrator"/>) of
/// <see cref="CalibrationTensors"/>; the scheme is <see cref="QuantizationParameters"/>.
/// </summary>
public sealed class QdqQuantizer
{
    private enum Role { None, Conv, Add, MaxPool }

    private readonly ModelProto _model;
    private readonly IReadOnlyList<NodeProto> _nodes;
    private readonly Dictionary<string, TensorProto> _initializers;
    private readonly Role[] _roles;
    private readonly HashSet<int> _foldedRelus = new();
    private readonly Dictionary<int, string> _outputRenames = new();
    private readonly HashSet<string> _quantized = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _sharesParametersWith = new(StringComparer.Ordinal);
    private readonly List<string> _quantizedInOrder = new();

    /// <summary>Plans the quantization of <paramref name="model"/> (float32, opset 13 or newer, nodes in topological order, as
    /// <see cref="OnnxExporter"/> writes them). The model is not changed.</summary>
    /// <exception cref="ArgumentException">The model has no graph, or an opset older than 13 (no per-axis DequantizeLinear).</exception>
    public QdqQuantizer(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Graph is null) throw new ArgumentException("quantization: the model has no graph", nameof(model));
        var opset = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(0).Max();
        if (opset < 13) throw new ArgumentException($"quantization: the model's opset is {opset}; per-channel QDQ needs opset 13 or newer", nameof(model));
        _model = model;
        _nodes = model.Graph.Node;
        _initializers = model.Graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        _roles = new Role[_nodes.Count];
        Plan();
    }

    /// <summary>The activation tensors whose range calibration must measure (graph inputs included), in graph order.</summary>
    public IReadOnlyList<string> CalibrationTensors => _quantizedInOrder.Where(t => !_sharesParametersWith.ContainsKey(t)).ToArray();

    /// <summary>How many Conv, Add and MaxPool nodes run quantized, and how many ReLUs fold into a quantization.</summary>
    public (int Convs, int Adds, int MaxPools, int FoldedRelus) Counts =>
        (_roles.Count(r => r == Role.Conv), _roles.Count(r => r == Role.Add), _roles.Count(r => r == Role.MaxPool), _foldedRelus.Count);

    private void Plan()
    {
        var graphOutputs = _model.Graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var readers = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (int i = 0; i < _nodes.Count; i++)
            foreach (var input in _nodes[i].Input.Where(n => n.Length > 0))
                (readers.TryGetValue(input, out var list) ? list : readers[input] = new List<int>()).Add(i);

        for (int i = 0; i < _nodes.Count; i++)
        {
            if (_foldedRelus.Contains(i)) continue;
            var node = _nodes[i];
            if (node.Domain is not ("" or "ai.onnx") || node.Output.Count != 1) continue;
            var inputs = node.Input;
            switch (node.OpType)
            {
                case "Conv" when inputs.Count >= 2 && IsFloatInitializer(inputs[1], rank: 4)
                                 && (inputs.Count < 3 || inputs[2].Length == 0 || IsFloatInitializer(inputs[2], rank: 1))
                                 && !_initializers.ContainsKey(inputs[0]):
                    _roles[i] = Role.Conv;
                    MarkQuantized(inputs[0]);
                    MarkOutput(i);
                    break;
                case "Add" when inputs.Count == 2 && _quantized.Contains(inputs[0]) && _quantized.Contains(inputs[1]):
                    _roles[i] = Role.Add;
                    MarkOutput(i);
                    break;
                case "MaxPool" when inputs.Count == 1 && _quantized.Contains(inputs[0]):
                    _roles[i] = Role.MaxPool;
                    var source = _sharesParametersWith.GetValueOrDefault(inputs[0], inputs[0]);
                    _sharesParametersWith[node.Output[0]] = source;
                    MarkQuantized(node.Output[0]);
                    break;
            }
        }

        void MarkOutput(int producer)
        {
            var output = _nodes[producer].Output[0];
            if (!graphOutputs.Contains(output) && readers.GetValueOrDefault(output) is [var only]
                && _nodes[only] is { OpType: "Relu", Domain: "" or "ai.onnx" } relu && relu.Output.Count == 1)
            {
                _foldedRelus.Add(only);
                _outputRenames[producer] = relu.Output[0];
                MarkQuantized(relu.Output[0]);
            }
            else
            {
                MarkQuantized(output);
            }
        }
    }

    private void MarkQuantized(string tensor)
    {
        if (_quantized.Add(tensor)) _quantizedInOrder.Add(tensor);
    }

    private bool IsFloatInitializer(string name, int rank) =>
        _initializers.TryGetValue(name, out var t) && t.DataType == (int)TensorProto.Types.DataType.Float && t.Dims.Count == rank;

    /// <summary>
    /// The QDQ model: a copy of the planned model with the quantization above, activation scales and zero points from
    /// <paramref name="ranges"/> (<see cref="QuantizationParameters.Activation"/>), and <paramref name="description"/> in the
    /// metadata under "quantization".
    /// </summary>
    /// <exception cref="ArgumentException">A tensor of <see cref="CalibrationTensors"/> has no range.</exception>
    public ModelProto Quantize(IReadOnlyDictionary<string, ActivationRange> ranges, string description)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        var model = _model.Clone();
        var graph = model.Graph;
        graph.Node.Clear();
        graph.ValueInfo.Clear();
        var removed = new HashSet<string>(StringComparer.Ordinal);
        var added = new List<TensorProto>();
        var activation = new Dictionary<string, (float Scale, string ScaleName, string ZeroPointName)>(StringComparer.Ordinal);
        var dequantizeCounts = new Dictionary<string, int>(StringComparer.Ordinal);

        foreach (var tensor in _quantizedInOrder)
        {
            var source = _sharesParametersWith.GetValueOrDefault(tensor, tensor);
            if (activation.TryGetValue(source, out var shared))
            {
                activation[tensor] = shared;
                continue;
            }
            if (!ranges.TryGetValue(source, out var range))
                throw new ArgumentException($"quantization: no calibrated range for tensor '{source}'", nameof(ranges));
            var (scale, zeroPoint) = QuantizationParameters.Activation(range);
            var scaleName = tensor + "_scale";
            var zeroPointName = tensor + "_zero_point";
            added.Add(FloatTensor(scaleName, [scale]));
            added.Add(new TensorProto { Name = zeroPointName, DataType = (int)TensorProto.Types.DataType.Uint8, RawData = ByteString.CopyFrom(zeroPoint) });
            activation[tensor] = (scale, scaleName, zeroPointName);
        }

        foreach (var input in graph.Input.Where(i => _quantized.Contains(i.Name)))
            graph.Node.Add(Quantize(input.Name));

        for (int i = 0; i < _nodes.Count; i++)
        {
            if (_foldedRelus.Contains(i)) continue;
            var node = _nodes[i].Clone();
            var originalInput = node.Input.Count > 0 ? node.Input[0] : "";
            if (_outputRenames.TryGetValue(i, out var renamed)) node.Output[0] = renamed;
            for (int s = 0; s < node.Input.Count; s++)
                if (_quantized.Contains(node.Input[s])) node.Input[s] = Dequantize(node.Input[s]);
            if (_roles[i] == Role.Conv) QuantizeConvParameters(node, activation[originalInput].Scale);
            graph.Node.Add(node);
            foreach (var output in node.Output.Where(_quantized.Contains))
                graph.Node.Add(Quantize(output));
        }

        var kept = graph.Initializer.Where(t => !removed.Contains(t.Name)).ToArray();
        graph.Initializer.Clear();
        graph.Initializer.AddRange(kept);
        graph.Initializer.AddRange(added);
        model.MetadataProps.Add(new StringStringEntryProto { Key = "quantization", Value = description });
        return model;

        NodeProto Quantize(string tensor)
        {
            var (_, scaleName, zeroPointName) = activation[tensor];
            var q = new NodeProto { OpType = "QuantizeLinear", Name = tensor + "/QuantizeLinear" };
            q.Input.AddRange([tensor, scaleName, zeroPointName]);
            q.Output.Add(tensor + "_quantized");
            return q;
        }

        string Dequantize(string tensor)
        {
            var (_, scaleName, zeroPointName) = activation[tensor];
            int k = dequantizeCounts[tensor] = dequantizeCounts.GetValueOrDefault(tensor) + 1;
            var output = tensor + "_dequantized" + (k == 1 ? "" : "_" + k);
            var dq = new NodeProto { OpType = "DequantizeLinear", Name = output + "/DequantizeLinear" };
            dq.Input.AddRange([tensor + "_quantized", scaleName, zeroPointName]);
            dq.Output.Add(output);
            graph.Node.Add(dq);
            return output;
        }

        void QuantizeConvParameters(NodeProto conv, float inputScale)
        {
            var weight = _initializers[conv.Input[1]];
            int outputChannels = checked((int)weight.Dims[0]);
            var (values, weightScales) = QuantizationParameters.Weights(Floats(weight), outputChannels);
            conv.Input[1] = PerChannel(weight.Name, weight.Dims, TensorProto.Types.DataType.Int8, MemoryMarshal.AsBytes(values.AsSpan()).ToArray(),
                weightScales, new byte[outputChannels]);
            removed.Add(weight.Name);
            if (conv.Input.Count >= 3 && conv.Input[2].Length > 0)
            {
                var bias = _initializers[conv.Input[2]];
                var (biasValues, biasScales) = QuantizationParameters.Bias(Floats(bias), inputScale, weightScales);
                conv.Input[2] = PerChannel(bias.Name, bias.Dims, TensorProto.Types.DataType.Int32, MemoryMarshal.AsBytes(biasValues.AsSpan()).ToArray(),
                    biasScales, new byte[outputChannels * sizeof(int)]);
                removed.Add(bias.Name);
            }
        }

        string PerChannel(string name, IEnumerable<long> dims, TensorProto.Types.DataType type, byte[] data, float[] scales, byte[] zeroPoints)
        {
            var values = new TensorProto { Name = name + "_quantized", DataType = (int)type, RawData = ByteString.CopyFrom(data) };
            values.Dims.AddRange(dims);
            var scale = FloatTensor(name + "_scale", scales);
            scale.Dims.Add(scales.Length);
            var zeroPoint = new TensorProto { Name = name + "_zero_point", DataType = (int)type, RawData = ByteString.CopyFrom(zeroPoints) };
            zeroPoint.Dims.Add(scales.Length);
            added.AddRange([values, scale, zeroPoint]);
            var dq = new NodeProto { OpType = "DequantizeLinear", Name = name + "/DequantizeLinear" };
            dq.Input.AddRange([values.Name, scale.Name, zeroPoint.Name]);
            dq.Output.Add(name + "_dequantized");
            dq.Attribute.Add(OnnxAttribute.Int("axis", 0));
            graph.Node.Add(dq);
            return name + "_dequantized";
        }
    }

    private static TensorProto FloatTensor(string name, float[] values) =>
        new() { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan())) };

    /// <summary>The values of a float32 initializer (raw little-endian data or the float_data field).</summary>
    private static float[] Floats(TensorProto tensor) =>
        tensor.RawData.Length > 0 ? MemoryMarshal.Cast<byte, float>(tensor.RawData.Span).ToArray() : tensor.FloatData.ToArray();
}
