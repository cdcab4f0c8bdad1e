using System.Runtime.InteropServices;
using EMANet.Runtime.Onnx.Proto;
using Google.Protobuf;
using static TorchSharp.torch;

namespace EMANet.Runtime.Onnx;

/// <summary>
/// Builds one ONNX graph (opset <see cref="OpsetVersion"/>, default domain): nodes in the order they are added
/// (a valid topological order, as each node reads values made before it), float32 initializers copied from
/// TorchSharp tensors, int64 and float constants. Names: a node's output is named after the current scope path
/// (<see cref="Scope"/>), the operator and a counter; a parameter is named after the scope path and its
/// state-dict key.
/// </summary>
public sealed class OnnxGraphBuilder
{
    /// <summary>The ONNX operator set the exporter targets (ai.onnx 17: Resize with full-rank sizes, ReduceL2/ReduceMean with axes attributes, ReduceSum with axes input).</summary>
    public const int OpsetVersion = 17;

    /// <summary>ONNX IR version 8 (ONNX 1.10+), which opset 17 models use.</summary>
    public const int IrVersion = 8;

    private readonly GraphProto _graph;
    private readonly List<string> _scopes = new();
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private int _counter;

    public OnnxGraphBuilder(string graphName)
    {
        _graph = new GraphProto { Name = graphName };
    }

    /// <summary>The dotted path of the current scope ("backbone.layer1.0"), empty at the top.</summary>
    public string ScopePath => string.Join(".", _scopes);

    /// <summary>Enters the scope <paramref name="name"/> (a child module's name) until the result is disposed.</summary>
    public IDisposable Scope(string name)
    {
        _scopes.Add(name);
        return new ScopeExit(this, _scopes.Count);
    }

    /// <summary>Exports a child module (<see cref="OnnxModules.Export"/>) inside the scope <paramref name="name"/>.</summary>
    public OnnxValue Child(string name, nn.Module module, params OnnxValue[] inputs)
    {
        using (Scope(name)) return OnnxModules.Export(this, module, inputs);
    }

    /// <summary>Declares a float32 graph input; a null dimension is free, named <paramref name="dimNames"/>[i].</summary>
    public OnnxValue Input(string name, long?[] dims, string[] dimNames)
    {
        _graph.Input.Add(ValueInfo(name, dims, dimNames));
        Reserve(name);
        return new OnnxValue(name);
    }

    /// <summary>Declares <paramref name="value"/> a graph output named <paramref name="name"/> (through an Identity node when the names differ).</summary>
    public void Output(OnnxValue value, string name, long?[] dims, string[] dimNames)
    {
        if (value.Name != name)
        {
            Reserve(name);
            var node = new NodeProto { OpType = "Identity", Name = name };
            node.Input.Add(value.Name);
            node.Output.Add(name);
            _graph.Node.Add(node);
        }
        _graph.Output.Add(ValueInfo(name, dims, dimNames));
    }

    /// <summary>Adds a node of operator <paramref name="op"/> with one output and returns it.</summary>
    public OnnxValue Node(string op, OnnxValue[] inputs, params AttributeProto[] attributes)
    {
        var name = UniqueName((ScopePath.Length > 0 ? ScopePath + "/" : "") + op);
        var node = new NodeProto { OpType = op, Name = name };
        foreach (var input in inputs) node.Input.Add(input.Name);
        node.Output.Add(name);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        return new OnnxValue(name);
    }

    /// <summary>A float32 initializer holding <paramref name="tensor"/> (copied, detached, on the CPU), named <c>scope.key</c>.</summary>
    public OnnxValue Parameter(string key, Tensor tensor)
    {
        var name = UniqueName(ScopePath.Length > 0 ? ScopePath + "." + key : key);
        using var scope = NewDisposeScope();
        var data = tensor.detach().cpu().to(ScalarType.Float32).contiguous().data<float>().ToArray();
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data.AsSpan())) };
        proto.Dims.AddRange(tensor.shape);
        _graph.Initializer.Add(proto);
        return new OnnxValue(name);
    }

    /// <summary>An int64 constant (a 1-D initializer of <paramref name="values"/>), for shapes, axes and slice bounds.</summary>
    public OnnxValue Int64s(params long[] values)
    {
        var name = UniqueName((ScopePath.Length > 0 ? ScopePath + "/" : "") + "const");
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        proto.Dims.Add(values.Length);
        proto.Int64Data.AddRange(values);
        _graph.Initializer.Add(proto);
        return new OnnxValue(name);
    }

    /// <summary>A float32 scalar constant (0-d initializer), broadcast by the element-wise operators.</summary>
    public OnnxValue Float(float value)
    {
        var name = UniqueName((ScopePath.Length > 0 ? ScopePath + "/" : "") + "const");
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        proto.FloatData.Add(value);
        _graph.Initializer.Add(proto);
        return new OnnxValue(name);
    }

    /// <summary>A float64 scalar constant (0-d initializer), for size arithmetic done in double as PyTorch does.</summary>
    public OnnxValue Double(double value)
    {
        var name = UniqueName((ScopePath.Length > 0 ? ScopePath + "/" : "") + "const");
        var proto = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Double, RawData = ByteString.CopyFrom(BitConverter.GetBytes(value)) };
        _graph.Initializer.Add(proto);
        return new OnnxValue(name);
    }

    /// <summary>The height and width of a B x C x H x W value as a 2-element int64 value (Shape, Slice: no constant sizes, so free axes stay free).</summary>
    public OnnxValue SpatialSize(OnnxValue value) =>
        Node("Slice", [Node("Shape", [value]), Int64s(2), Int64s(4)]);

    /// <summary>The batch and channels of a B x C x H x W value as a 2-element int64 value.</summary>
    public OnnxValue BatchAndChannels(OnnxValue value) =>
        Node("Slice", [Node("Shape", [value]), Int64s(0), Int64s(2)]);

    /// <summary>The graph as built, in a model: IR version 8, opset 17, producer and metadata set.</summary>
    public ModelProto ToModel(string producerVersion, IReadOnlyDictionary<string, string> metadata)
    {
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "EMANet.Gen",
            ProducerVersion = producerVersion,
            Graph = _graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OpsetVersion });
        foreach (var (key, value) in metadata) model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return model;
    }

    private static ValueInfoProto ValueInfo(string name, long?[] dims, string[] dimNames)
    {
        var shape = new TensorShapeProto();
        for (int i = 0; i < dims.Length; i++)
            shape.Dim.Add(dims[i] is { } d ? new TensorShapeProto.Types.Dimension { DimValue = d } : new TensorShapeProto.Types.Dimension { DimParam = dimNames[i] });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    private string UniqueName(string preferred)
    {
        var name = preferred;
        while (!_names.Add(name)) name = preferred + "_" + (++_counter);
        return name;
    }

    private void Reserve(string name)
    {
        if (!_names.Add(name)) throw new ArgumentException($"ONNX graph: the name '{name}' is already used", nameof(name));
    }

    private sealed class ScopeExit(OnnxGraphBuilder builder, int depth) : IDisposable
    {
        public void Dispose()
        {
            if (builder._scopes.Count == depth) builder._scopes.RemoveAt(depth - 1);
        }
    }
}
