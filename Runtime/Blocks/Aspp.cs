using EMANet.Runtime.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EMANet.Runtime.Blocks;

/// <summary>
/// Atrous spatial pyramid pooling (Chen et al. 2017) with torchvision's names: convs.0 (1x1),
/// convs.1.. (3x3 at each rate), the image-pooling branch last, then project (1x1, BN, ReLU, dropout).
/// Fusable: every branch's BN and the projection's BN fold into their convs and the dropout goes;
/// eval-only afterwards.
/// </summary>
public sealed class Aspp : FusableBlock
{
    private ModuleList<nn.Module<Tensor, Tensor>> convs;
    private Sequential project;
    private readonly bool _imagePooling;

    public Aspp(int inChannels, int outChannels = 256, int[]? rates = null, bool imagePooling = true, double dropout = 0.1) : base(nameof(Aspp))
    {
        rates ??= [12, 24, 36];
        var branches = new List<nn.Module<Tensor, Tensor>>
        {
            nn.Sequential(new Conv2d(inChannels, outChannels, 1, bias: false), new BatchNorm2d(outChannels), nn.ReLU(inplace: true)),
        };
        foreach (var rate in rates)
            branches.Add(nn.Sequential(new Conv2d(inChannels, outChannels, 3, padding: rate, dilation: rate, bias: false), new BatchNorm2d(outChannels), nn.ReLU(inplace: true)));
        if (imagePooling)
            branches.Add(nn.Sequential(nn.AdaptiveAvgPool2d(1), new Conv2d(inChannels, outChannels, 1, bias: false), new BatchNorm2d(outChannels), nn.ReLU(inplace: true)));
        _imagePooling = imagePooling;
        convs = nn.ModuleList(branches.ToArray());
        var projection = new List<nn.Module<Tensor, Tensor>>
        {
            new Conv2d(outChannels * branches.Count, outChannels, 1, bias: false), new BatchNorm2d(outChannels), nn.ReLU(inplace: true),
        };
        if (dropout > 0) projection.Add(nn.Dropout(dropout));
        project = nn.Sequential(projection);
        RegisterComponents();
    }

    /// <summary>B x in x H x W to B x out x H x W.</summary>
    public override Tensor forward(Tensor input)
    {
        ThrowIfFusedInTraining();
        using var scope = NewDisposeScope();
        var outputs = new List<Tensor>();
        for (int i = 0; i < convs.Count; i++)
        {
            var y = convs[i].call(input);            // B x out x H x W (1 x 1 for image pooling)
            if (_imagePooling && i == convs.Count - 1)
                y = nn.functional.interpolate(y, new long[] { input.shape[2], input.shape[3] }, mode: InterpolationMode.Bilinear, align_corners: false);
            outputs.Add(y);
        }
        var features = cat(outputs, 1);              // B x out*branches x H x W
        return project.call(features).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override OnnxValue Export(OnnxGraphBuilder g, params OnnxValue[] inputs)
    {
        var input = OnnxModules.Single(this, inputs);
        var outputs = new List<OnnxValue>();
        using (g.Scope("convs"))
        {
            for (int i = 0; i < convs.Count; i++)
            {
                var y = g.Child(i.ToString(System.Globalization.CultureInfo.InvariantCulture), convs[i], input);
                if (_imagePooling && i == convs.Count - 1)
                    y = BilinearUpsample.Resize(g, y, g.SpatialSize(input), alignCorners: false);
                outputs.Add(y);
            }
        }
        var features = g.Node("Concat", outputs.ToArray(), OnnxAttribute.Int("axis", 1));
        return g.Child("project", project, features);
    }

    protected override void Fuse()
    {
        var fusedBranches = convs.Select(branch => (nn.Module<Tensor, Tensor>)Fusion.FoldSequential((Sequential)branch)).ToArray();
        var fusedConvs = nn.ModuleList(fusedBranches);
        ReplaceChild("convs", fusedConvs, disposeOld: false);
        convs = fusedConvs;
        project = FoldChild("project", project);
    }
}
