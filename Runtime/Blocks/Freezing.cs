using static TorchSharp.torch;

namespace EMANet.Runtime.Blocks;

/// <summary>The <c>Frozen = true</c> of a layer attribute: its parameters get no gradient.</summary>
public static class Freezing
{
    /// <summary>
    /// Sets <c>requires_grad = false</c> on every parameter of <paramref name="module"/> (as mmsegmentation's EMAHead does
    /// to its <c>ema_mid_conv</c>): the trainer's optimizer leaves them out, so neither the gradient step nor weight decay
    /// moves them. Buffers are not touched. Returns the module.
    /// </summary>
    public static T Freeze<T>(T module) where T : nn.Module
    {
        ArgumentNullException.ThrowIfNull(module);
        foreach (var parameter in module.parameters()) parameter.requires_grad = false;
        return module;
    }
}
