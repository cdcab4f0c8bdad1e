using System.Globalization;
using System.Reflection;
using EMANet.Engine;
using EMANet.Runtime.Blocks;
using EMANet.Runtime.IO;
using EMANet.Runtime.Networks;
using EMANet.Runtime.Onnx.Proto;
using Google.Protobuf;
using static TorchSharp.torch;

namespace EMANet.Runtime.Onnx;

/// <summary>
/// Exports a generated network's inference path to ONNX (opset 17). The graph follows the network's static
/// <see cref="NetworkDeclaration"/>, the same layer table its generated <c>forward</c> is built from: each
/// declared layer reads the previous one or its <c>From</c>/<c>SizeOf</c> references, auxiliary heads are left
/// out, and each layer's module (found in the module tree by the layer's name) writes its own nodes through
/// <see cref="IOnnxExportable"/>. The network is fused first (<see cref="IFusableForInference.FuseForInference"/>):
/// batch norms are folded, dropout is gone, the EM iterations are unrolled by the EMA unit's export.
/// </summary>
public static class OnnxExporter
{
    /// <summary>
    /// The ONNX model of <paramref name="network"/>'s inference path. <b>Fuses <paramref name="network"/> in place</b>
    /// (it is eval-only afterwards), as the exported graph is the fused one. Input "input" (B x C x H x W), output
    /// "logits" (B x classes x H x W); fixed at batch 1 and the network's <see cref="ISegmentationNetwork.InputShape"/>
    /// unless <see cref="OnnxExportOptions.DynamicAxes"/>.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="network"/> is not a generated network, or it refuses the input size
    /// (the shape engine's message, as when building the network at that size).</exception>
    /// <exception cref="NotSupportedException">A layer's module has no ONNX export.</exception>
    public static ModelProto Export(nn.Module<Tensor, Tensor> network, OnnxExportOptions? options = null)
    {
        options ??= new OnnxExportOptions();
        if (network is not ISegmentationNetwork segmentation)
            throw new ArgumentException($"ONNX export: {network.GetType().Name} is not a generated segmentation network (no declaration to follow)", nameof(network));
        var declaration = segmentation.Descriptor.Declaration;
        var shape = options.Input ?? segmentation.InputShape;
        if (shape.Channels != segmentation.InputShape.Channels)
            throw new ArgumentException($"ONNX export: input {shape} has {shape.Channels} channels, but this {declaration.Name} was built for {segmentation.InputShape.Channels}");
        NetworkGuard.EnsureValid(segmentation.Descriptor, shape, segmentation.Classes);
        var analysis = segmentation.Descriptor.Analyze(shape, segmentation.Classes);
        segmentation.FuseForInference();
        var modules = network.named_children().ToDictionary(c => c.name, c => c.module, StringComparer.Ordinal);

        var g = new OnnxGraphBuilder(declaration.Name);
        string[] dimNames = ["batch", "channels", "height", "width"];
        long?[] inputDims = options.DynamicAxes ? [null, shape.Channels, null, null] : [1, shape.Channels, shape.Height, shape.Width];
        long?[] outputDims = options.DynamicAxes ? [null, segmentation.Classes, null, null] : [1, segmentation.Classes, shape.Height, shape.Width];
        var values = new Dictionary<string, OnnxValue>(StringComparer.Ordinal) { [ShapeEngine.InputName] = g.Input(OnnxExportOptions.InputName, inputDims, dimNames) };

        var stageReads = StageReads(declaration);
        var previous = ShapeEngine.InputName;
        for (int i = 0; i < declaration.Layers.Count; i++)
        {
            var layer = declaration.Layers[i];
            if (IsAuxiliary(analysis, layer.Name))
            {
                previous = layer.Name;
                continue;
            }
            if (!modules.TryGetValue(layer.Name, out var module))
                throw new InvalidOperationException($"ONNX export: {declaration.Name} declares layer '{layer.Name}' but has no child module of that name");
            var inputs = (layer.Inputs.Count > 0 ? layer.Inputs.ToArray() : [previous]).Select(r => Lookup(values, r, layer.Name)).ToArray();
            using (g.Scope(layer.Name))
            {
                if (module is ResNet resnet && stageReads.Contains(layer.Name))
                {
                    var features = resnet.ExportFeatures(g, inputs[0]);
                    values[layer.Name + ".stem"] = features.Stem;
                    values[layer.Name + ".layer1"] = features.Layer1;
                    values[layer.Name + ".layer2"] = features.Layer2;
                    values[layer.Name + ".layer3"] = features.Layer3;
                    values[layer.Name + ".layer4"] = features.Layer4;
                    values[layer.Name] = features.Layer4;
                }
                else if (layer.Kind == LayerKind.Upsample && module is BilinearUpsample upsample)
                {
                    values[layer.Name] = layer.SizeOf.Length > 0
                        ? upsample.Export(g, inputs[0], Lookup(values, layer.SizeOf, layer.Name))
                        : upsample.ExportScaled(g, inputs[0], layer.Scale);
                }
                else if (layer.Kind is LayerKind.Concat or LayerKind.Add)
                {
                    values[layer.Name] = OnnxModules.Export(g, module, inputs);
                }
                else
                {
                    values[layer.Name] = OnnxModules.Export(g, module, inputs[0]);
                }
            }
            previous = layer.Name;
        }
        var main = declaration.Layers[analysis.MainOutputLayer].Name;
        g.Output(values[main], OnnxExportOptions.OutputName, outputDims, ["batch", "classes", "height", "width"]);

        var metadata = new Dictionary<string, string>
        {
            ["network"] = declaration.Name,
            ["classes"] = segmentation.Classes.ToString(CultureInfo.InvariantCulture),
            ["input"] = shape.ToString(),
            ["output_stride"] = segmentation.OutputStride.ToString(CultureInfo.InvariantCulture),
            ["dynamic_axes"] = options.DynamicAxes ? "true" : "false",
        };
        return g.ToModel(ProducerVersion, metadata);
    }

    /// <summary>The serialised model (<see cref="Export"/>), e.g. for an in-memory ONNX Runtime session.</summary>
    public static byte[] ExportBytes(nn.Module<Tensor, Tensor> network, OnnxExportOptions? options = null) =>
        Export(network, options).ToByteArray();

    /// <summary>Writes the model (<see cref="Export"/>) to <paramref name="path"/> atomically; returns its size in bytes.</summary>
    public static long ExportFile(nn.Module<Tensor, Tensor> network, string path, OnnxExportOptions? options = null) =>
        WriteFile(Export(network, options), path);

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/> atomically (a failed write leaves any earlier file whole);
    /// returns its size in bytes.</summary>
    public static long WriteFile(ModelProto model, string path)
    {
        var bytes = model.ToByteArray();
        AtomicFile.WriteAllBytes(path, bytes);
        return bytes.LongLength;
    }

    private static string ProducerVersion =>
        typeof(OnnxExporter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";

    /// <summary>A layer is auxiliary (training only) when the engine flags any of its operations so, as the generator decides.</summary>
    private static bool IsAuxiliary(NetworkAnalysis analysis, string layer) =>
        analysis.Layers.Where(r => r.Name == layer || r.Name.StartsWith(layer + ".", StringComparison.Ordinal)).Any(r => r.Auxiliary);

    /// <summary>ResNets whose stages ("backbone.layer1") a later layer reads.</summary>
    private static HashSet<string> StageReads(NetworkDeclaration declaration)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var layer in declaration.Layers)
            foreach (var reference in layer.Inputs.Append(layer.SizeOf).Where(r => r.Length > 0))
                if (reference.IndexOf('.') is var dot and > 0) set.Add(reference[..dot]);
        return set;
    }

    private static OnnxValue Lookup(Dictionary<string, OnnxValue> values, string reference, string reader) =>
        values.TryGetValue(reference, out var value)
            ? value
            : throw new InvalidOperationException($"ONNX export: layer '{reader}' reads '{reference}', which the inference path does not produce before it");
}
