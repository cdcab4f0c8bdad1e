namespace EMANet.Engine;

/// <summary>What a declared member of a network is.</summary>
public enum LayerKind
{
    ResNet,
    Conv,
    Classifier,
    BatchNorm,
    ReLU,
    Dropout,
    MaxPool,
    AvgPool,
    GlobalAvgPool,
    Upsample,
    Concat,
    Add,
    EmaUnit,
    Aspp,
}
