namespace EMANet.Generator.Parsing;

internal static class WellKnownNames
{
    public const string NetworkAttribute = "EMANet.SegmentationNetworkAttribute";
    public const string LayerAttributeBase = "EMANet.LayerAttribute";
    public const string AttributeNamespace = "EMANet";
}
