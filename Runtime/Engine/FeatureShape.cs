namespace EMANet.Engine;

/// <summary>Channels x height x width of one feature map (batch 1).</summary>
public readonly record struct FeatureShape(int Channels, int Height, int Width)
{
    /// <summary>C x H x W; throws OverflowException past 64 bits (the engine reports that).</summary>
    public long Elements => checked((long)Channels * Height * Width);

    public long Pixels => (long)Height * Width;

    public override string ToString() => Channels + "x" + Height + "x" + Width;

    public string Spatial => Height + "x" + Width;
}
