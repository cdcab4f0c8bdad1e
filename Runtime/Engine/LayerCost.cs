namespace EMANet.Engine;

/// <summary>
/// One row of a network's cost table: one operation of one forward pass at batch 1.
/// <see cref="Name"/> is the state-dict style path of the module that runs it (a module called
/// several times, such as a Bottleneck's ReLU, has one row per call).
/// </summary>
public sealed record LayerCost(
    string Name,
    string Kind,
    FeatureShape Output,
    long Parameters,
    long Macs,
    long Flops,
    long MemoryBytes,
    bool Auxiliary = false);
