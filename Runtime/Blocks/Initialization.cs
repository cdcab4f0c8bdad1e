using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EMANet.Runtime.Blocks;

/// <summary>The authors' initialisation: conv weights normal(0, sqrt(2 / (k*k*out))), BN weight 1 and bias 0.</summary>
public static class Initialization
{
    public static void InitializeConvAndNorm(nn.Module module)
    {
        using var _ = no_grad();
        foreach (var (_, child) in module.named_modules())
        {
            switch (child)
            {
                case Conv2d conv:
                    long fanOut = conv.weight!.shape[0] * conv.weight.shape[2] * conv.weight.shape[3];
                    nn.init.normal_(conv.weight, 0, Math.Sqrt(2.0 / fanOut));
                    if (conv.bias is not null) nn.init.zeros_(conv.bias);
                    break;
                case BatchNorm2d bn:
                    nn.init.ones_(bn.weight!);
                    nn.init.zeros_(bn.bias!);
                    break;
            }
        }
    }
}
