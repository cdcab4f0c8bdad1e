using System.Globalization;
using EMANet.Runtime.Evaluation;
using EMANet.Runtime.Networks;
using EMANet.Runtime.Onnx.Proto;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace EMANet.Runtime.Onnx;

/// <summary>ONNX Runtime's graph optimisation level (its <c>GraphOptimizationLevel</c>), as the CLI spells it.</summary>
public enum OnnxGraphOptimization
{
    /// <summary>No graph rewrite.</summary>
    None,
    /// <summary>Constant folding and redundant-node elimination.</summary>
    Basic,
    /// <summary>Basic plus node fusions (Conv+Add+Relu, ...).</summary>
    Extended,
    /// <summary>Extended plus layout optimisations (ONNX Runtime's default).</summary>
    All,
}

/// <summary>How an <see cref="OnnxRuntimeEngine"/> session runs.</summary>
/// <param name="Threads">Intra-op threads; 0 lets ONNX Runtime choose (one per physical core).</param>
/// <param name="GraphOptimization">The graph optimisation level.</param>
public sealed record OnnxRuntimeOptions(int Threads = 0, OnnxGraphOptimization GraphOptimization = OnnxGraphOptimization.All);

/// <summary>
/// A network run by ONNX Runtime (CPU) on its exported graph: an <see cref="IInferenceEngine"/>, so prediction and
/// evaluation use it through their one path. Inputs and logits are TorchSharp CPU tensors (float32, B x C x H x W in,
/// B x K x H x W out); the copies in and out are the only extra work.
/// </summary>
public sealed class OnnxRuntimeEngine : IInferenceEngine, IDisposable
{
    private readonly InferenceSession _session;
    private readonly string _inputName;
    private readonly string _outputName;
    private readonly int[] _inputDimensions;   // -1 (or 0) where the model leaves an axis free

    /// <summary>A session on the serialised ONNX model <paramref name="model"/>.</summary>
    /// <exception cref="OnnxRuntimeException">ONNX Runtime refuses the model.</exception>
    public OnnxRuntimeEngine(byte[] model, OnnxRuntimeOptions? options = null)
    {
        Options = options ?? new OnnxRuntimeOptions();
        if (Options.Threads < 0) throw new ArgumentOutOfRangeException(nameof(options), Options.Threads, "threads must be 0 (ONNX Runtime's choice) or positive");
        using var sessionOptions = new SessionOptions
        {
            IntraOpNumThreads = Options.Threads,
            GraphOptimizationLevel = Options.GraphOptimization switch
            {
                OnnxGraphOptimization.None => GraphOptimizationLevel.ORT_DISABLE_ALL,
                OnnxGraphOptimization.Basic => GraphOptimizationLevel.ORT_ENABLE_BASIC,
                OnnxGraphOptimization.Extended => GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
                _ => GraphOptimizationLevel.ORT_ENABLE_ALL,
            },
        };
        _session = new InferenceSession(model, sessionOptions);
        _inputName = _session.InputMetadata.Keys.Single();
        _inputDimensions = _session.InputMetadata[_inputName].Dimensions;
        _outputName = _session.OutputMetadata.ContainsKey(OnnxExportOptions.OutputName) ? OnnxExportOptions.OutputName : _session.OutputMetadata.Keys.First();
    }

    /// <summary>Receives one float32 tensor of a run by name (the graph input, or a model output other than the logits).</summary>
    internal delegate void OutputObserver(string name, ReadOnlySpan<float> values);

    /// <summary>
    /// Exports <paramref name="network"/> with free batch, height and width (<see cref="OnnxExporter"/>; this fuses
    /// the network in place) and opens a session on the model in memory.
    /// </summary>
    public static OnnxRuntimeEngine ForNetwork(nn.Module<Tensor, Tensor> network, OnnxRuntimeOptions? options = null) =>
        new(OnnxExporter.ExportBytes(network, new OnnxExportOptions(DynamicAxes: true)), options);

    /// <summary>
    /// A session on the ONNX model file <paramref name="path"/> (float32 or quantized, as <c>emanet export</c> writes it), checked
    /// against <paramref name="network"/>: the network and class count its metadata names must be the network's.
    /// </summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">The file is not an ONNX model, ONNX Runtime refuses it, or it was exported from
    /// another network or for another number of classes (the message names the file).</exception>
    public static OnnxRuntimeEngine ForModelFile(string path, ISegmentationNetwork network, OnnxRuntimeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such ONNX model file", path);
        var bytes = File.ReadAllBytes(path);
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{path}: not an ONNX model ({e.Message})", e);
        }
        if (model.Graph is null || model.Graph.Input.Count == 0) throw new InvalidDataException($"{path}: not an ONNX model (no graph input)");
        var metadata = model.MetadataProps.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        var name = network.Descriptor.Declaration.Name;
        if (metadata.TryGetValue("network", out var exported) && exported != name)
            throw new InvalidDataException($"{path}: exported from network '{exported}', not '{name}'");
        if (metadata.TryGetValue("classes", out var classes) && classes != network.Classes.ToString(CultureInfo.InvariantCulture))
            throw new InvalidDataException($"{path}: exported with {classes} classes, but the network has {network.Classes}");
        try
        {
            return new OnnxRuntimeEngine(bytes, options) { Model = path, Quantized = metadata.ContainsKey("quantization") };
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidDataException($"{path}: ONNX Runtime refuses the model ({e.Message})", e);
        }
    }

    public OnnxRuntimeOptions Options { get; }

    /// <summary>The model file the session runs, or null for a model given in memory.</summary>
    public string? Model { get; private init; }

    /// <summary>Whether the model file says it is quantized (its "quantization" metadata, as <c>emanet export --int8</c> writes).</summary>
    public bool Quantized { get; private init; }

    public string Description =>
        $"ONNX Runtime{(Model is null ? "" : " on " + Path.GetFileName(Model) + (Quantized ? " (int8)" : ""))}, {(Options.Threads == 0 ? "default" : Options.Threads.ToString(CultureInfo.InvariantCulture))} threads, graph optimisation {Options.GraphOptimization.ToString().ToLowerInvariant()}";

    /// <inheritdoc />
    /// <exception cref="ArgumentException"><paramref name="images"/> is not a 4-D tensor, or not of the size a fixed-size model takes.</exception>
    public Tensor Logits(Tensor images) => Logits(images, null);

    /// <summary>
    /// The logits, handing the input and every other output of the model to <paramref name="observe"/> (calibration adds the
    /// tensors it measures as outputs).
    /// </summary>
    internal Tensor Logits(Tensor images, OutputObserver? observe)
    {
        if (images.dim() != 4)
            throw new ArgumentException($"ONNX Runtime: expected an N x C x H x W batch, got [{string.Join(", ", images.shape)}]", nameof(images));
        if (_inputDimensions.Length != 4 || Enumerable.Range(0, 4).Any(i => _inputDimensions[i] > 0 && _inputDimensions[i] != images.shape[i]))
            throw new ArgumentException(
                $"ONNX Runtime: {(Model is null ? "the model" : Model)} takes input {string.Join("x", _inputDimensions.Select(d => d > 0 ? d.ToString(CultureInfo.InvariantCulture) : "?"))}, " +
                $"got {string.Join("x", images.shape)} (a model exported without --dynamic runs at its export size only)");
        float[] data;
        using (var scope = NewDisposeScope())
            data = images.detach().cpu().to(ScalarType.Float32).contiguous().data<float>().ToArray();
        observe?.Invoke(_inputName, data);
        using var input = OrtValue.CreateTensorValueFromMemory(data, images.shape);
        using var runOptions = new RunOptions();
        var names = observe is null ? [_outputName] : _session.OutputMetadata.Keys.ToArray();
        using var outputs = _session.Run(runOptions, [_inputName], [input], names);
        Tensor? result = null;
        for (int i = 0; i < names.Length; i++)
        {
            if (names[i] == _outputName)
                result = tensor(outputs[i].GetTensorDataAsSpan<float>().ToArray(), outputs[i].GetTensorTypeAndShape().Shape).to(images.device);
            else
                observe!(names[i], outputs[i].GetTensorDataAsSpan<float>());
        }
        return result!;
    }

    public void Dispose() => _session.Dispose();
}
