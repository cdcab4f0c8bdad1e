namespace EMANet;

/// <summary>The first layers of a ResNet backbone.</summary>
public enum ResNetStem
{
    /// <summary>Three 3x3 convolutions (3-64-64-128), as in the EMANet authors' pretrained ResNets.</summary>
    Deep = 0,

    /// <summary>One 7x7 stride-2 convolution (3-64), as in torchvision and most ImageNet checkpoints.</summary>
    TorchVision = 1,
}

/// <summary>The two published forms of the EM Attention Unit.</summary>
public enum EmaUnitStyle
{
    /// <summary>
    /// The EMANet authors' EMAU (network.py): 1x1 conv with bias (<c>conv1</c>, frozen), T EM iterations from the buffer
    /// <c>mu</c>, reconstruction, ReLU, 1x1 conv + BN (<c>conv2.0</c>, <c>conv2.1</c>), residual add, ReLU. Momentum weighs
    /// the old bases; the M-step and L2 norm add 1e-6 to their denominators.
    /// </summary>
    Authors = 0,

    /// <summary>
    /// mmsegmentation's EMAModule (decode_heads/ema_head.py): the EM iterations and the reconstruction alone, from the
    /// buffer <c>bases</c>; the head declares its projections (ema_mid_conv, ema_out_conv), ReLU and residual add as
    /// layers. Momentum weighs the new value (bases = (1 - m) * bases + m * normalize(batch mean)); the M-step and L2
    /// norm are F.normalize's (the norm clamped at 1e-12).
    /// </summary>
    MMSeg = 1,
}
