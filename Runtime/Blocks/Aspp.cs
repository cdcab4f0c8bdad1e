using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EMANet.Runtime.Blocks;

/// <summary>
/// Atrous spatial pyramid pooling (Chen et al. 2017) with torchvision's names: convs.0 (1x1),
/// convs.1.. (3x3 at each rate), the image-pooling branch last, then project (1x1, BN, ReLU, dropout).
/// </summary>
public sealed class Aspp : nn.Module<Tensor, Tensor>
{
    private readonly ModuleList<nn.Module<Tensor, Tensor>> convs;
    private readonly Sequential project;
    private readonly bool _imagePooling;

    public Aspp(int inChannels, int outChannels = 256, int[]? rates = null, bool imagePooling = true, double dropout = 0.1) : base(nameof(Aspp))
    {
        rates ??= [12, 24, 36];
        var branches = new List<nn.Module<Tensor, Tensor>>
        {
            nn.Sequential(nn.Conv2d(inChannels, outChannels, 1, bias: false), nn.BatchNorm2d(outChannels), nn.ReLU()),
        };
        foreach (var rate in rates)
            branches.Add(nn.Sequential(nn.Conv2d(inChannels, outChannels, 3, padding: rate, dilation: rate, bias: false), nn.BatchNorm2d(outChannels), nn.ReLU()));
        if (imagePooling)
            branches.Add(nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(inChannels, outChannels, 1, bias: false), nn.BatchNorm2d(outChannels), nn.ReLU()));
        _imagePooling = imagePooling;
        convs = nn.ModuleList(branches.ToArray());
        var projection = new List<nn.Module<Tensor, Tensor>>
        {
            nn.Conv2d(outChannels * branches.Count, outChannels, 1, bias: false), nn.BatchNorm2d(outChannels), nn.ReLU(),
        };
        if (dropout > 0) projection.Add(nn.Dropout(dropout));
        project = nn.Sequential(projection);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var outputs = new List<Tensor>();
        for (int i = 0; i < convs.Count; i++)
        {
            var y = convs[i].forward(input);
            if (_imagePooling && i == convs.Count - 1)
                y = nn.functional.interpolate(y, new long[] { input.shape[2], input.shape[3] }, mode: InterpolationMode.Bilinear, align_corners: false);
            outputs.Add(y);
        }
        return project.forward(cat(outputs, 1)).MoveToOuterDisposeScope();
    }
}
