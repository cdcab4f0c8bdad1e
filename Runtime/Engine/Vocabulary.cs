namespace EMANet;

/// <summary>The first layers of a ResNet backbone.</summary>
public enum ResNetStem
{
    /// <summary>Three 3x3 convolutions (3-64-64-128), as in the EMANet authors' pretrained ResNets.</summary>
    Deep = 0,

    /// <summary>One 7x7 stride-2 convolution (3-64), as in torchvision and most ImageNet checkpoints.</summary>
    TorchVision = 1,
}
