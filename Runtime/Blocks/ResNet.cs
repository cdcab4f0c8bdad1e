using EMANet.Engine;
using EMANet.Runtime.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EMANet.Runtime.Blocks;

/// <summary>The outputs of a ResNet's stem and four stages.</summary>
public sealed record ResNetFeatures(Tensor Stem, Tensor Layer1, Tensor Layer2, Tensor Layer3, Tensor Layer4);

/// <summary>The ONNX values of a ResNet's stem and four stages (<see cref="ResNet.ExportFeatures"/>).</summary>
public sealed record OnnxResNetFeatures(OnnxValue Stem, OnnxValue Layer1, OnnxValue Layer2, OnnxValue Layer3, OnnxValue Layer4);

/// <summary>
/// A dilated ResNet built from the engine's <see cref="ResNetPlan"/> (so the cost table and the
/// module agree), with torchvision's parameter names: conv1 (a Sequential 0..6 for the deep
/// stem), bn1, layer1..layer4; no fc. Fusable: the stem's batch norms fold into conv1 (bn1 into
/// conv1.6 for the deep stem) and every block fuses (eval-only afterwards).
/// </summary>
public sealed class ResNet : FusableBlock
{
    private nn.Module<Tensor, Tensor> conv1;
    private BatchNorm2d? bn1;
    private readonly ReLU relu;
    private readonly MaxPool2d maxpool;
    private readonly Sequential layer1, layer2, layer3, layer4;

    /// <param name="stemWidths">The stem convolutions' widths (three for the deep stem, one for torchvision's), as given; null = [64, 64, 128] or [64] times the multiplier.</param>
    /// <param name="contractDilation">The first block of a dilated stage runs at half its dilation (mmsegmentation's contract_dilation; see <see cref="ResNetPlan.Create"/>).</param>
    public ResNet(int depth, ResNetStem stem = ResNetStem.Deep, int outputStride = 8, double widthMultiplier = 1.0, int[]? multiGrid = null, int inputChannels = 3,
        int[]? stemWidths = null, bool contractDilation = true)
        : base(nameof(ResNet))
    {
        if (stemWidths is { Length: > 0 } && stemWidths.Length != ResNetPlan.StemConvolutions(stem))
            throw new ArgumentException($"stemWidths has {stemWidths.Length} values; the {stem} stem takes {ResNetPlan.StemConvolutions(stem)}", nameof(stemWidths));
        if (stemWidths is not null && stemWidths.Any(w => w <= 0))
            throw new ArgumentOutOfRangeException(nameof(stemWidths), string.Join(", ", stemWidths), "stem widths must be positive");
        Plan = ResNetPlan.Create(depth, stem, outputStride, widthMultiplier, multiGrid ?? [1, 2, 4], stemWidths, contractDilation);
        var w = Plan.StemWidths;
        conv1 = stem == ResNetStem.Deep
            ? nn.Sequential(
                new Conv2d(inputChannels, w[0], 3, stride: 2, padding: 1, bias: false),
                new BatchNorm2d(w[0]),
                nn.ReLU(inplace: true),
                new Conv2d(w[0], w[1], 3, padding: 1, bias: false),
                new BatchNorm2d(w[1]),
                nn.ReLU(inplace: true),
                new Conv2d(w[1], w[2], 3, padding: 1, bias: false))
            : new Conv2d(inputChannels, w[0], 7, stride: 2, padding: 3, bias: false);
        bn1 = new BatchNorm2d(Plan.StemChannels);
        relu = nn.ReLU(inplace: true);   // ReLUs after batch norms run in place (BN's backward needs its input, not its output)
        maxpool = nn.MaxPool2d(3, 2, 1);
        var stages = Plan.Stages.Select(BuildStage).ToArray();
        (layer1, layer2, layer3, layer4) = (stages[0], stages[1], stages[2], stages[3]);
        RegisterComponents();
        Initialization.InitializeConvAndNorm(this);
    }

    public ResNetPlan Plan { get; }

    public int OutChannels => Plan.OutChannels;

    private Sequential BuildStage(ResNetStagePlan stage)
    {
        var blocks = stage.Blocks.Select(b => Plan.Bottleneck
            ? (nn.Module<Tensor, Tensor>)new Bottleneck(b.InChannels, b.Planes, b.OutChannels, b.Stride, b.Dilation, b.Downsample)
            : new BasicBlock(b.InChannels, b.OutChannels, b.Stride, b.Dilation, b.Downsample));
        return nn.Sequential(blocks);
    }

    /// <summary>The layer4 output, B x OutChannels x H/OS x W/OS.</summary>
    public override Tensor forward(Tensor input)
    {
        ThrowIfFusedInTraining();
        using var scope = NewDisposeScope();
        var x = Stem(input);                         // B x stem x H/4 x W/4
        x = layer1.call(x);
        x = layer2.call(x);
        x = layer3.call(x);
        x = layer4.call(x);                          // B x out x H/OS x W/OS
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>Every stage's output, for heads that read earlier features (DeepLabV3+, auxiliary heads).</summary>
    public ResNetFeatures ForwardFeatures(Tensor input)
    {
        ThrowIfFusedInTraining();
        var stem = Stem(input);
        var c1 = layer1.call(stem);
        var c2 = layer2.call(c1);
        var c3 = layer3.call(c2);
        var c4 = layer4.call(c3);
        return new ResNetFeatures(stem, c1, c2, c3, c4);
    }

    /// <summary>The layer4 output, as <see cref="forward"/>.</summary>
    public override OnnxValue Export(OnnxGraphBuilder g, params OnnxValue[] inputs) => ExportFeatures(g, OnnxModules.Single(this, inputs)).Layer4;

    /// <summary>Every stage's output, as <see cref="ForwardFeatures"/>.</summary>
    public OnnxResNetFeatures ExportFeatures(OnnxGraphBuilder g, OnnxValue input)
    {
        var x = g.Child("conv1", conv1, input);
        if (bn1 is not null) x = g.Child("bn1", bn1, x);
        x = g.Node("Relu", [x]);
        var stem = g.Child("maxpool", maxpool, x);
        var c1 = g.Child("layer1", layer1, stem);
        var c2 = g.Child("layer2", layer2, c1);
        var c3 = g.Child("layer3", layer3, c2);
        var c4 = g.Child("layer4", layer4, c3);
        return new OnnxResNetFeatures(stem, c1, c2, c3, c4);
    }

    /// <summary>conv1 (and bn1 until fused), ReLU, max-pool: B x C x H x W to B x stem x H/4 x W/4.</summary>
    private Tensor Stem(Tensor input)
    {
        var x = conv1.call(input);
        if (bn1 is not null) x = bn1.call(x);
        x = relu.call(x);
        return maxpool.call(x);
    }

    protected override void Fuse()
    {
        if (conv1 is Sequential deepStem)
        {
            conv1 = FoldChild("conv1", deepStem, trailingNorm: bn1);
            ReplaceChild("bn1", null);
            bn1 = null;
        }
        else
        {
            FoldAndRemove((Conv2d)conv1, ref bn1, "bn1");
        }
        foreach (var stage in new[] { layer1, layer2, layer3, layer4 })
            foreach (var (_, block) in stage.named_children())
                ((IFusableForInference)block).FuseForInference();
    }
}
