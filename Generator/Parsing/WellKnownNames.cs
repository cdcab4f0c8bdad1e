namespace EMANet.Generator.Parsing;

internal static class WellKnownNames
{
    public const string NetworkAttribute = "EMANet.SegmentationNetworkAttribute";
    public const string LayerAttributeBase = "EMANet.LayerAttribute";
    public const string AttributeNamespace = "EMANet";

    /// <summary>The runtime base class the generated part gives every network.</summary>
    public const string NetworkBaseClass = "EMANet.Runtime.Networks.SegmentationNetwork";
}
