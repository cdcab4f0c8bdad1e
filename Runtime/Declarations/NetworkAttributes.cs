namespace EMANet;

/// <summary>
/// Marks a <c>partial</c> class as a segmentation network. Its fields, in declaration order, are
/// its layers: each carries one layer attribute, and the field's name is its state-dict prefix.
/// The generator writes the constructor, <c>forward</c> and the cost constants.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class SegmentationNetworkAttribute(string name) : Attribute
{
    /// <summary>Stable kebab-case name, e.g. "emanet-r101".</summary>
    public string Name { get; } = name;

    public int Classes { get; set; } = 21;
    public int InputChannels { get; set; } = 3;
    public int InputHeight { get; set; } = 513;
    public int InputWidth { get; set; } = 513;
}

/// <summary>Base of the layer attributes: <see cref="From"/> names the layer read (default: the previous one).</summary>
[AttributeUsage(AttributeTargets.Field, Inherited = false)]
public abstract class LayerAttribute : Attribute
{
    /// <summary>Layer whose output this layer reads: a member name, "input", or a backbone stage such as "backbone.layer1". Empty = the previous layer.</summary>
    public string From { get; set; } = "";
}

/// <summary>A dilated ResNet backbone (torchvision parameter names). Outputs layer4; stages are readable as "name.layer1" .. "name.layer4".</summary>
public sealed class ResNetAttribute(int depth) : LayerAttribute
{
    /// <summary>18 or 34 (basic blocks), 50, 101 or 152 (bottlenecks).</summary>
    public int Depth { get; } = depth;
    public ResNetStem Stem { get; set; } = ResNetStem.Deep;

    /// <summary>8, 16 or 32: layer3/layer4 trade their stride for dilation (EMANET.md section 1).</summary>
    public int OutputStride { get; set; } = 8;

    /// <summary>Scales every channel count (64 * m, rounded); 1 = the standard ResNet.</summary>
    public double WidthMultiplier { get; set; } = 1.0;

    /// <summary>Dilation multipliers of layer4's later blocks when layer4 is dilated; empty (<c>new int[0]</c>) for none, as mmsegmentation's default.</summary>
    public int[] MultiGrid { get; set; } = [1, 2, 4];

    /// <summary>
    /// Output channels of the stem convolutions, as given (not scaled by <see cref="WidthMultiplier"/>): three for the
    /// deep stem, one for the torchvision stem. Empty (the default): deep [64, 64, 128] or torchvision [64], times the
    /// multiplier. mmsegmentation's ResNetV1c stem is <c>new[] { 32, 32, 64 }</c> (its stem_channels 64, halved for the first two).
    /// </summary>
    public int[] StemWidths { get; set; } = [];

    /// <summary>
    /// The first block of a dilated stage runs at half the stage's dilation (mmsegmentation's <c>contract_dilation=True</c>,
    /// which its EMANet, PSPNet and DeepLab configs set; also torchvision's and the EMANet authors' rule, and this
    /// project's default). false: every block of the stage uses the stage's dilation (mmsegmentation's default).
    /// </summary>
    public bool ContractDilation { get; set; } = true;
}

/// <summary>A convolution, optionally followed by batch norm, ReLU and 2-D dropout (a <c>ConvBlock</c>; a bare <c>Conv2d</c> member takes no extras).</summary>
public class ConvAttribute(int outChannels, int kernel = 1) : LayerAttribute
{
    public int OutChannels { get; } = outChannels;
    public int Kernel { get; } = kernel;
    public int Stride { get; set; } = 1;
    public int Dilation { get; set; } = 1;

    /// <summary>-1 = "same": dilation * (kernel - 1) / 2.</summary>
    public int Padding { get; set; } = -1;
    public int Groups { get; set; } = 1;
    public bool Bias { get; set; }
    public bool Norm { get; set; }
    public bool Relu { get; set; }
    public double Dropout { get; set; }

    /// <summary>
    /// The convolution's parameters get no gradient (<c>requires_grad = false</c>): the optimizer leaves them out and
    /// they keep their loaded or initial values, as mmsegmentation's <c>ema_mid_conv</c>. They still count as parameters.
    /// </summary>
    public bool Frozen { get; set; }
}

/// <summary>Conv (no bias) + BatchNorm + ReLU, the workhorse of segmentation heads (the authors' ConvBNReLU).</summary>
public sealed class ConvBnReluAttribute : ConvAttribute
{
    /// <summary>A convolution with <see cref="ConvAttribute.Norm"/> and <see cref="ConvAttribute.Relu"/> on (what the generator builds).</summary>
    public ConvBnReluAttribute(int outChannels, int kernel = 1) : base(outChannels, kernel)
    {
        Norm = true;
        Relu = true;
    }
}

/// <summary>1x1 convolution with bias to the network's number of classes.</summary>
public sealed class ClassifierAttribute : LayerAttribute
{
    /// <summary>An auxiliary head's classifier: run in training only, its loss weighted by the trainer.</summary>
    public bool Auxiliary { get; set; }

    /// <summary>
    /// An auxiliary classifier's logits are resized bilinearly to the input for the loss with this <c>align_corners</c>
    /// (true: the EMANet authors' convention; mmsegmentation's heads use false). Only for <c>Auxiliary = true</c>: the
    /// main logits are resized by an <c>[Upsample]</c> layer, which has its own <c>AlignCorners</c>.
    /// </summary>
    public bool AlignCorners { get; set; } = true;
}

/// <summary>The EM Attention Unit on the previous layer's channels.</summary>
public sealed class EmaUnitAttribute : LayerAttribute
{
    /// <summary>K, the number of bases.</summary>
    public int Bases { get; set; } = 64;

    /// <summary>T, the number of EM iterations.</summary>
    public int Iterations { get; set; } = 3;

    /// <summary>
    /// m of the bases' moving average. <see cref="EmaUnitStyle.Authors"/>: the weight of the old bases,
    /// mu = m * mu + (1 - m) * mean (the paper's 0.9). <see cref="EmaUnitStyle.MMSeg"/>: the weight of the new value,
    /// bases = (1 - m) * bases + m * normalize(mean) (mmsegmentation's momentum 0.1, the same blend as 0.9 here).
    /// </summary>
    public double Momentum { get; set; } = 0.9;

    /// <summary>Blend the L2-normalised batch mean of the bases into the moving average (mmsegmentation's EMAModule); the authors blend it unnormalised. Authors style only: the MMSeg style always normalises.</summary>
    public bool Renormalize { get; set; }

    /// <summary>Which implementation's unit this is: its parts, key names, momentum convention and epsilons (see <see cref="EmaUnitStyle"/>).</summary>
    public EmaUnitStyle Style { get; set; } = EmaUnitStyle.Authors;
}

/// <summary>Atrous spatial pyramid pooling (DeepLabV3) including its 1x1 projection (torchvision names: convs.N, project).</summary>
public sealed class AsppAttribute : LayerAttribute
{
    public int OutChannels { get; set; } = 256;
    public int[] Rates { get; set; } = [12, 24, 36];
    public bool ImagePooling { get; set; } = true;
    public double Dropout { get; set; } = 0.1;
}

public sealed class BatchNormAttribute : LayerAttribute;

public sealed class ReLUAttribute : LayerAttribute;

public sealed class DropoutAttribute(double probability) : LayerAttribute
{
    public double Probability { get; } = probability;
}

public sealed class MaxPoolAttribute(int kernel, int stride) : LayerAttribute
{
    public int Kernel { get; } = kernel;
    public int Stride { get; } = stride;

    /// <summary>-1 = (kernel - 1) / 2.</summary>
    public int Padding { get; set; } = -1;
}

public sealed class AvgPoolAttribute(int kernel, int stride) : LayerAttribute
{
    public int Kernel { get; } = kernel;
    public int Stride { get; } = stride;

    /// <summary>-1 = (kernel - 1) / 2.</summary>
    public int Padding { get; set; } = -1;
}

public sealed class GlobalAvgPoolAttribute : LayerAttribute;

/// <summary>Bilinear resize to the size of another layer's output (<see cref="SizeOf"/>, "input" for the network input) or by <see cref="Scale"/>.</summary>
public sealed class UpsampleAttribute : LayerAttribute
{
    public string SizeOf { get; set; } = "";
    public double Scale { get; set; }
    public bool AlignCorners { get; set; } = true;
}

/// <summary>Channel concatenation of the named layers' outputs, in order.</summary>
public sealed class ConcatAttribute(params string[] inputs) : LayerAttribute
{
    public string[] Inputs { get; } = inputs;
}

/// <summary>Element-wise sum of the named layers' outputs (a residual add).</summary>
public sealed class AddAttribute(params string[] inputs) : LayerAttribute
{
    public string[] Inputs { get; } = inputs;
}
