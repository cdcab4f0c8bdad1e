using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EMANet.Runtime.Blocks;

/// <summary>
/// Atrous spatial pyramid pooling (Chen et al. 2017) with torchvision's names: convs.0 (1x1),
/// convs.1.. (3x3 at each rate), the image-pooling branch last, then project (1x1, BN, ReLU, dropout).
/// Fusable: every branch's BN and the projection's BN fold into their convs, the dropout goes, and
/// the image-pooling branch (a constant over the map) enters the projection as a per-image bias
/// instead of being upsampled and concatenated; eval-only afterwards.
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
            nn.Sequential(nn.Conv2d(inChannels, outChannels, 1, bias: false), new BatchNorm2d(outChannels), nn.ReLU(inplace: true)),
        };
        foreach (var rate in rates)
            branches.Add(nn.Sequential(nn.Conv2d(inChannels, outChannels, 3, padding: rate, dilation: rate, bias: false), new BatchNorm2d(outChannels), nn.ReLU(inplace: true)));
        if (imagePooling)
            branches.Add(nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(inChannels, outChannels, 1, bias: false), new BatchNorm2d(outChannels), nn.ReLU(inplace: true)));
        _imagePooling = imagePooling;
        convs = nn.ModuleList(branches.ToArray());
        var projection = new List<nn.Module<Tensor, Tensor>>
        {
            nn.Conv2d(outChannels * branches.Count, outChannels, 1, bias: false), new BatchNorm2d(outChannels), nn.ReLU(inplace: true),
        };
        if (dropout > 0) projection.Add(nn.Dropout(dropout));
        project = nn.Sequential(projection);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        if (IsFusedForInference) return FusedForward(input);
        using var scope = NewDisposeScope();
        var outputs = new List<Tensor>();
        for (int i = 0; i < convs.Count; i++)
        {
            var y = Run(convs[i], input);
            if (_imagePooling && i == convs.Count - 1)
                y = nn.functional.interpolate(y, new long[] { input.shape[2], input.shape[3] }, mode: InterpolationMode.Bilinear, align_corners: false);
            outputs.Add(y);
        }
        return Run(project, cat(outputs, 1)).MoveToOuterDisposeScope();
    }

    private Tensor FusedForward(Tensor input)
    {
        EnsureFusedForwardAllowed();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        int spatialBranches = _imagePooling ? convs.Count - 1 : convs.Count;
        var outputs = new Tensor[spatialBranches];
        for (int i = 0; i < spatialBranches; i++) outputs[i] = convs[i].forward(input);
        var features = cat(outputs, 1);
        foreach (var o in outputs) o.Dispose();
        var projection = (Conv2d)project[0];
        Tensor y;
        if (_imagePooling)
        {
            // Bilinear upsampling of a 1x1 map is a constant map, so its share of the 1x1 projection
            // is a per-image, per-channel constant: W_pool · pooled, added as a bias.
            long spatialChannels = features.shape[1];
            var pooled = convs[convs.Count - 1].forward(input);
            var weight = projection.weight;
            var poolBias = nn.functional.conv2d(pooled, weight.narrow(1, spatialChannels, weight.shape[1] - spatialChannels));
            y = nn.functional.conv2d(features, weight.narrow(1, 0, spatialChannels), projection.bias).add_(poolBias, Scalars.One);
        }
        else
        {
            y = projection.forward(features);
        }
        return y.relu_().MoveToOuterDisposeScope();
    }

    protected override void Fuse()
    {
        var fusedBranches = convs.Select(branch => (nn.Module<Tensor, Tensor>)Fusion.FoldSequential((Sequential)branch)).ToArray();
        var fusedConvs = nn.ModuleList(fusedBranches);
        ReplaceChild("convs", fusedConvs, disposeOld: false);
        convs = fusedConvs;
        var fusedProject = Fusion.FoldSequential(project);
        ReplaceChild("project", fusedProject, disposeOld: false);
        project = fusedProject;
    }
}
