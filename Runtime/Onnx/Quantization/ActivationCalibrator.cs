using EMANet.Runtime.Evaluation;
using EMANet.Runtime.Onnx.Proto;
using Google.Protobuf;
using static TorchSharp.torch;

namespace EMANet.Runtime.Onnx.Quantization;

/// <summary>
/// MinMax calibration (ONNX Runtime's default <c>CalibrationMethod.MinMax</c>): an <see cref="IInferenceEngine"/> that runs a
/// float32 model in ONNX Runtime with the tensors to measure added as outputs and keeps each tensor's smallest and largest value
/// over every batch it sees. Being an inference engine, it is driven by the same inference strategy (padding, sliding window) that
/// the quantized model will run under, so the ranges are those of the inputs it will get.
/// </summary>
public sealed class ActivationCalibrator : IInferenceEngine, IDisposable
{
    private readonly OnnxRuntimeEngine _engine;
    private readonly HashSet<string> _tensors;
    private readonly Dictionary<string, ActivationRange> _ranges = new(StringComparer.Ordinal);

    /// <summary>A session on <paramref name="model"/> (not changed) that also returns <paramref name="tensors"/> (node outputs or the
    /// graph input, by name).</summary>
    /// <exception cref="ArgumentException">A tensor is neither the graph input nor a node's output.</exception>
    public ActivationCalibrator(ModelProto model, IEnumerable<string> tensors, OnnxRuntimeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        _tensors = tensors.ToHashSet(StringComparer.Ordinal);
        var augmented = model.Clone();
        var graph = augmented.Graph;
        var inputs = graph.Input.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        var produced = graph.Node.SelectMany(n => n.Output).ToHashSet(StringComparer.Ordinal);
        var outputs = graph.Output.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var name in _tensors)
        {
            if (inputs.Contains(name) || outputs.Contains(name)) continue;
            if (!produced.Contains(name)) throw new ArgumentException($"calibration: the model has no tensor '{name}'", nameof(tensors));
            graph.Output.Add(new ValueInfoProto
            {
                Name = name,
                Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } },
            });
        }
        _engine = new OnnxRuntimeEngine(augmented.ToByteArray(), options);
    }

    /// <summary>Batches seen so far.</summary>
    public int Batches { get; private set; }

    /// <summary>Each measured tensor's range over the batches seen (a tensor appears once a batch has been run).</summary>
    public IReadOnlyDictionary<string, ActivationRange> Ranges => _ranges;

    public string Description => "MinMax calibration on " + _engine.Description;

    /// <summary>The float32 logits of <paramref name="images"/> (B x C x H x W), measuring the tensors on the way.</summary>
    public Tensor Logits(Tensor images)
    {
        var logits = _engine.Logits(images, Observe);
        Batches++;
        return logits;
    }

    private void Observe(string name, ReadOnlySpan<float> values)
    {
        if (!_tensors.Contains(name)) return;
        var range = ActivationRange.Of(values, name);
        _ranges[name] = _ranges.TryGetValue(name, out var seen) ? seen.Union(range) : range;
    }

    public void Dispose() => _engine.Dispose();
}
