namespace EMANet.Runtime.Data;

/// <summary>
/// Turns a decoded sample into a prepared one. Implementations take all randomness from
/// <paramref name="random"/> (which the loader seeds per sample) and must be safe to call from several
/// threads at once.
/// </summary>
public interface ISampleTransform
{
    PreparedSample Apply(SegmentationSample sample, SeededRandom random);
}
