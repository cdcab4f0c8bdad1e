using System.Globalization;
using EMANet.Runtime.Evaluation;
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
        _outputName = _session.OutputMetadata.Keys.First();
    }

    /// <summary>
    /// Exports <paramref name="network"/> with free batch, height and width (<see cref="OnnxExporter"/>; this fuses
    /// the network in place) and opens a session on the model in memory.
    /// </summary>
    public static OnnxRuntimeEngine ForNetwork(nn.Module<Tensor, Tensor> network, OnnxRuntimeOptions? options = null) =>
        new(OnnxExporter.ExportBytes(network, new OnnxExportOptions(DynamicAxes: true)), options);

    public OnnxRuntimeOptions Options { get; }

    public string Description =>
        $"ONNX Runtime, {(Options.Threads == 0 ? "default" : Options.Threads.ToString(CultureInfo.InvariantCulture))} threads, graph optimisation {Options.GraphOptimization.ToString().ToLowerInvariant()}";

    /// <inheritdoc />
    /// <exception cref="ArgumentException"><paramref name="images"/> is not a 4-D tensor.</exception>
    public Tensor Logits(Tensor images)
    {
        if (images.dim() != 4)
            throw new ArgumentException($"ONNX Runtime: expected an N x C x H x W batch, got [{string.Join(", ", images.shape)}]", nameof(images));
        float[] data;
        using (var scope = NewDisposeScope())
            data = images.detach().cpu().to(ScalarType.Float32).contiguous().data<float>().ToArray();
        using var input = OrtValue.CreateTensorValueFromMemory(data, images.shape);
        using var runOptions = new RunOptions();
        using var outputs = _session.Run(runOptions, [_inputName], [input], [_outputName]);
        var logits = outputs[0];
        var shape = logits.GetTensorTypeAndShape().Shape;
        return tensor(logits.GetTensorDataAsSpan<float>().ToArray(), shape).to(images.device);
    }

    public void Dispose() => _session.Dispose();
}
