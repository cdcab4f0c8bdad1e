using System.Collections.Generic;
using System.Linq;

namespace EMANet.Engine;

/// <summary>The output of one declared layer: its shape and where its channel count came from.</summary>
public sealed record LayerOutput(string Name, int LayerIndex, FeatureShape Shape, string Origin)
{
    /// <summary>What set the spatial size, for messages: "the network input", "'b' Stride = 2", "'backbone' at output stride 8".</summary>
    public string SizeOrigin { get; init; } = "";
}

/// <summary>What the engine found for a declaration at one input size.</summary>
public sealed class NetworkAnalysis
{
    internal NetworkAnalysis(NetworkDeclaration declaration, FeatureShape input, int classes, IReadOnlyList<LayerCost> layers,
        IReadOnlyList<EngineFinding> findings, IReadOnlyList<LayerOutput> outputs, FeatureShape? output, int outputStride, int mainOutputLayer)
    {
        Declaration = declaration;
        Input = input;
        Classes = classes;
        Layers = layers;
        Findings = findings;
        Outputs = outputs;
        Output = output;
        OutputStride = outputStride;
        MainOutputLayer = mainOutputLayer;
    }

    public NetworkDeclaration Declaration { get; }
    public FeatureShape Input { get; }
    public int Classes { get; }

    /// <summary>Every operation of one forward pass, in execution order (auxiliary heads flagged).</summary>
    public IReadOnlyList<LayerCost> Layers { get; }
    public IReadOnlyList<EngineFinding> Findings { get; }

    /// <summary>Outputs of the declared layers and of the backbone stages, by name.</summary>
    public IReadOnlyList<LayerOutput> Outputs { get; }

    /// <summary>Shape of the main output (logits), when the declaration is valid.</summary>
    public FeatureShape? Output { get; }

    /// <summary>Input size over the backbone's output size (1 when there is no backbone).</summary>
    public int OutputStride { get; }

    /// <summary>Index of the declared layer whose output is the network's main output; -1 if none.</summary>
    public int MainOutputLayer { get; }

    public bool HasErrors => Findings.Any(f => f.Severity == FindingSeverity.Error);

    /// <summary>Totals of the inference path (auxiliary heads excluded).</summary>
    public long Parameters => Inference.Sum(r => r.Parameters);
    public long Macs => Inference.Sum(r => r.Macs);
    public long Flops => Inference.Sum(r => r.Flops);
    public long MemoryBytes => Inference.Sum(r => r.MemoryBytes);

    /// <summary>
    /// Memory by the paper's counter (torchstat): each named leaf module once, with the output of
    /// its last call; functional operations (residual adds, EM steps, resizes, concatenations) not
    /// counted. Reproduces the paper's 2.603G for the ResNet-101 backbone.
    /// </summary>
    public long ModuleMemoryBytes => ModuleMemoryOf(Inference);

    /// <summary><see cref="ModuleMemoryBytes"/> of some rows (e.g. <see cref="Under"/> a prefix).</summary>
    public static long ModuleMemoryOf(IEnumerable<LayerCost> rows)
    {
        var last = new Dictionary<string, LayerCost>(System.StringComparer.Ordinal);
        foreach (var row in rows)
            if (ModuleKinds.Contains(row.Kind)) last[row.Name] = row;
        return last.Values.Sum(r => r.MemoryBytes);
    }

    private static readonly HashSet<string> ModuleKinds = new(System.StringComparer.Ordinal)
    {
        "Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Dropout2d",
    };

    /// <summary>Parameters including auxiliary heads (what a training run holds).</summary>
    public long TrainingParameters => Layers.Sum(r => r.Parameters);

    private IEnumerable<LayerCost> Inference => Layers.Where(r => !r.Auxiliary);

    /// <summary>The rows whose name is <paramref name="prefix"/> or starts with it followed by a dot.</summary>
    public IEnumerable<LayerCost> Under(string prefix) =>
        Layers.Where(r => r.Name == prefix || r.Name.StartsWith(prefix + ".", System.StringComparison.Ordinal));
}
