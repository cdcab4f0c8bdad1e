using System;

namespace EMANet.Engine;

/// <summary>
/// A network as its attributes declare it: plain values only (no Roslyn symbols), so that the
/// generator can cache on it and the runtime can re-analyse it at other input sizes.
/// </summary>
public sealed record NetworkDeclaration
{
    /// <summary>Kebab-case network name, e.g. "emanet-r101".</summary>
    public string Name { get; init; } = "";

    public int InputChannels { get; init; } = 3;

    public int InputHeight { get; init; } = 513;

    public int InputWidth { get; init; } = 513;

    public int Classes { get; init; } = 21;

    /// <summary>Layers in declaration order; each member's name is its state-dict prefix.</summary>
    public EquatableArray<LayerDeclaration> Layers { get; init; } = EquatableArray<LayerDeclaration>.Empty;
}

/// <summary>
/// One declared layer. A flat record of every argument any layer kind takes; each kind reads the
/// arguments it needs (see <see cref="LayerKind"/>). Defaults match the attributes' defaults.
/// </summary>
public sealed record LayerDeclaration
{
    public string Name { get; init; } = "";

    public LayerKind Kind { get; init; }

    /// <summary>Simple name of the member's declared type (e.g. "ConvBlock", "Conv2d").</summary>
    public string MemberType { get; init; } = "";

    /// <summary>Names of the layers (or "input", or "backbone.layer1" style stages) this layer reads; empty = the previous layer.</summary>
    public EquatableArray<string> Inputs { get; init; } = EquatableArray<string>.Empty;

    // Convolution, pooling
    public int OutChannels { get; init; }
    public int Kernel { get; init; } = 1;
    public int Stride { get; init; } = 1;
    public int Dilation { get; init; } = 1;
    /// <summary>-1 = "same" padding: dilation * (kernel - 1) / 2.</summary>
    public int Padding { get; init; } = -1;
    public int Groups { get; init; } = 1;
    public bool Bias { get; init; }
    public bool Norm { get; init; }
    public bool Relu { get; init; }
    public double Dropout { get; init; }
    /// <summary>The layer's parameters get no gradient (requires_grad = false).</summary>
    public bool Frozen { get; init; }

    // ResNet backbone
    public int Depth { get; init; } = 101;
    public ResNetStem Stem { get; init; } = ResNetStem.Deep;
    public int OutputStride { get; init; } = 8;
    public double WidthMultiplier { get; init; } = 1.0;
    public EquatableArray<int> MultiGrid { get; init; } = EquatableArray.Of(1, 2, 4);
    /// <summary>Stem convolution widths as declared; empty = derived from the stem kind and width multiplier.</summary>
    public EquatableArray<int> StemWidths { get; init; } = EquatableArray<int>.Empty;
    public bool ContractDilation { get; init; } = true;

    // EM attention unit
    public int Bases { get; init; } = 64;
    public int Iterations { get; init; } = 3;
    public double Momentum { get; init; } = 0.9;
    public bool Renormalize { get; init; }
    public EmaUnitStyle Style { get; init; } = EmaUnitStyle.Authors;

    // Upsample
    public double Scale { get; init; }
    /// <summary>Name of the layer (or "input") whose spatial size the upsampling matches; empty = use <see cref="Scale"/>.</summary>
    public string SizeOf { get; init; } = "";
    /// <summary>Upsample: align_corners of the resize; auxiliary Classifier: of the resize of its logits to the input.</summary>
    public bool AlignCorners { get; init; } = true;

    // ASPP
    public EquatableArray<int> Rates { get; init; } = EquatableArray.Of(12, 24, 36);
    public bool ImagePooling { get; init; } = true;

    // Classifier
    public bool Auxiliary { get; init; }

    /// <summary>A classifier of an auxiliary head (training only; left out of the inference path, its cost and its export).</summary>
    public bool IsAuxiliaryClassifier => Kind == LayerKind.Classifier && Auxiliary;
}
