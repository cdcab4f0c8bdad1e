namespace EMANet.Runtime.Data;

/// <summary>Which half of a generated dataset: scenes of the two never share a seed (or source items).</summary>
public enum SceneSplit
{
    Train,
    Val,
}
