using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace EMANet.Bench;

// EMANet(512) on a deep-stem ResNet-101 at output stride 8, written by hand in plain TorchSharp with
// no generated code and no EMANet.Runtime blocks: the baseline that shows what the generator's
// output costs at run time. Same parameter names as the generated emanet-r101, so its state dict
// loads into this module (the bench checks the outputs agree).
//
// The Scalar rule (README.md, "TorchSharp Scalars"): constants are held Scalars, adds pass alpha. The one exception is
// TorchSharp's own BatchNorm2d, kept because this is the plain-TorchSharp baseline: its training forward makes temporary
// Scalars (num_batches_tracked.add_(1)), harmless here only because the bench runs no other managed thread while timing.
#pragma warning disable RS0030 // TorchSharp's BatchNorm2d (see above); every other banned API stays banned in this file.

#pragma warning restore RS0030

/// <summary>Scalars the hand-written modules pass to libtorch, held for the process.</summary>
internal static class HwScalars
{
    public static readonly Scalar One = 1L.ToScalar();
    public static readonly Scalar Epsilon = 1e-6.ToScalar();
}

#pragma warning disable RS0030 // TorchSharp's BatchNorm2d: the baseline's own (see the file header).
internal sealed class HwBottleneck : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1, conv2, conv3;
    private readonly BatchNorm2d bn1, bn2, bn3;
    private readonly Sequential? downsample;

    public HwBottleneck(int inC, int planes, int stride, int dilation) : base("Bottleneck")
    {
        conv1 = nn.Conv2d(inC, planes, 1, bias: false); bn1 = nn.BatchNorm2d(planes);
        conv2 = nn.Conv2d(planes, planes, 3, stride: stride, padding: dilation, dilation: dilation, bias: false); bn2 = nn.BatchNorm2d(planes);
        conv3 = nn.Conv2d(planes, planes * 4, 1, bias: false); bn3 = nn.BatchNorm2d(planes * 4);
        if (stride != 1 || inC != planes * 4)
            downsample = nn.Sequential(nn.Conv2d(inC, planes * 4, 1, stride: stride, bias: false), nn.BatchNorm2d(planes * 4));
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = bn1.forward(conv1.forward(x)).relu_();
        y = bn2.forward(conv2.forward(y)).relu_();
        y = bn3.forward(conv3.forward(y));
        return y.add_(downsample?.forward(x) ?? x, HwScalars.One).relu_().MoveToOuterDisposeScope();
    }
}

internal sealed class HwResNet101 : nn.Module<Tensor, Tensor>
{
    private readonly Sequential conv1, layer1, layer2, layer3, layer4;
    private readonly BatchNorm2d bn1;
    private readonly MaxPool2d maxpool = nn.MaxPool2d(3, 2, 1);

    public HwResNet101() : base("ResNet")
    {
        conv1 = nn.Sequential(nn.Conv2d(3, 64, 3, stride: 2, padding: 1, bias: false), nn.BatchNorm2d(64), nn.ReLU(inplace: true),
            nn.Conv2d(64, 64, 3, padding: 1, bias: false), nn.BatchNorm2d(64), nn.ReLU(inplace: true), nn.Conv2d(64, 128, 3, padding: 1, bias: false));
        bn1 = nn.BatchNorm2d(128);
        int inC = 128;
        Sequential Stage(int planes, int stride, int[] dilations)
        {
            var stage = nn.Sequential();
            for (int b = 0; b < dilations.Length; b++) { stage.append(new HwBottleneck(inC, planes, b == 0 ? stride : 1, dilations[b])); inC = planes * 4; }
            return stage;
        }
        // Output stride 8: layer3 and layer4 trade stride for dilation (layer3: 1 then 2; layer4 multi-grid 2, 8, 16).
        layer1 = Stage(64, 1, [1, 1, 1]);
        layer2 = Stage(128, 2, [1, 1, 1, 1]);
        layer3 = Stage(256, 1, [1, .. Enumerable.Repeat(2, 22)]);
        layer4 = Stage(512, 1, [2, 8, 16]);
        RegisterComponents();
        foreach (var (_, m) in named_modules())
        {
            using var _ = no_grad();
            if (m is Conv2d c) nn.init.normal_(c.weight, 0, Math.Sqrt(2.0 / (c.weight.shape[0] * c.weight.shape[2] * c.weight.shape[3])));
        }
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = maxpool.forward(bn1.forward(conv1.forward(x)).relu_());
        return layer4.forward(layer3.forward(layer2.forward(layer1.forward(y)))).MoveToOuterDisposeScope();
    }
}

internal sealed class HwConvBnRelu : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv;
    private readonly BatchNorm2d bn;
    private readonly Dropout2d? dropout;

    public HwConvBnRelu(int inC, int outC, double drop = 0) : base("ConvBnRelu")
    {
        conv = nn.Conv2d(inC, outC, 3, padding: 1, bias: false);
        bn = nn.BatchNorm2d(outC);
        if (drop > 0) dropout = nn.Dropout2d(drop);
        RegisterComponents();
        using var _ = no_grad();
        nn.init.normal_(conv.weight, 0, Math.Sqrt(2.0 / (outC * 9)));
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = bn.forward(conv.forward(x)).relu_();
        return (dropout?.forward(y) ?? y).MoveToOuterDisposeScope();
    }
}

internal sealed class HwEmaUnit : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly Sequential conv2;
    private readonly Tensor mu;
    private const int K = 64, T = 3;

    public HwEmaUnit(int c) : base("EmaUnit")
    {
        conv1 = nn.Conv2d(c, c, 1);
        conv2 = nn.Sequential(nn.Conv2d(c, c, 1, bias: false), nn.BatchNorm2d(c));
        using (no_grad())
        {
            using var std = Math.Sqrt(2.0 / K).ToScalar();
            var init = randn([1, c, K]).mul_(std);   // normal(0, std), as torch.normal computes it
            mu = init / init.norm(1, keepdim: true).add(HwScalars.Epsilon, HwScalars.One);
            nn.init.normal_(conv1.weight, 0, Math.Sqrt(2.0 / c)); nn.init.zeros_(conv1.bias!);
            nn.init.normal_(((Conv2d)conv2[0]).weight, 0, Math.Sqrt(2.0 / c));
        }
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = conv1.forward(input);
        long b = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        x = x.view(b, c, h * w);
        Tensor bases = mu.repeat(b, 1, 1), z = null!;
        using (no_grad())
        {
            for (int t = 0; t < T; t++)
            {
                z = F.softmax(x.permute(0, 2, 1).bmm(bases), 2);
                var m = x.bmm(z / z.sum(1, keepdim: true).add(HwScalars.Epsilon, HwScalars.One));
                bases = m / m.norm(1, keepdim: true).add(HwScalars.Epsilon, HwScalars.One);
            }
        }
        var y = bases.bmm(z.permute(0, 2, 1)).view(b, c, h, w).relu_();
        return conv2.forward(y).add_(input, HwScalars.One).relu_().MoveToOuterDisposeScope();
    }
}

/// <summary>Hand-written EMANet(512), ResNet-101 OS 8 (the generated emanet-r101's twin).</summary>
internal sealed class HandWrittenEmaNet : nn.Module<Tensor, Tensor>
{
    private readonly HwResNet101 backbone = new();
    private readonly HwConvBnRelu fc0 = new(2048, 512);
    private readonly HwEmaUnit emau = new(512);
    private readonly HwConvBnRelu fc1 = new(512, 256, 0.1);
    private readonly Conv2d fc2;

    public HandWrittenEmaNet(int classes = 21) : base("HandWrittenEmaNet")
    {
        fc2 = nn.Conv2d(256, classes, 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var y = fc2.forward(fc1.forward(emau.forward(fc0.forward(backbone.forward(x)))));
        return F.interpolate(y, [x.shape[2], x.shape[3]], mode: InterpolationMode.Bilinear, align_corners: true).MoveToOuterDisposeScope();
    }
}
#pragma warning restore RS0030
