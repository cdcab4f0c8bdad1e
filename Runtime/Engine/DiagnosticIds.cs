namespace EMANet.Engine;

/// <summary>Stable diagnostic ids; the catalogue (titles, severities) lives in the generator.</summary>
public static class DiagnosticIds
{
    public const string NotPartial = "EMA0001";
    public const string MemberTypeMismatch = "EMA0002";
    public const string InvalidArgument = "EMA0003";
    public const string ChannelMismatch = "EMA0004";
    public const string SpatialMismatch = "EMA0005";
    public const string OutputStrideUnreachable = "EMA0006";
    public const string SpatialCollapse = "EMA0007";
    public const string SizeNotKept = "EMA0008";
    public const string EmaOutOfRange = "EMA0009";
    public const string UnknownLayer = "EMA0010";
    public const string ForwardReference = "EMA0011";
    public const string DuplicateLayerName = "EMA0012";
    public const string InputNotDivisible = "EMA0013";
    public const string ClassifierMismatch = "EMA0014";
    public const string OutputSizeMismatch = "EMA0015";
    public const string UnsupportedDeclaration = "EMA0016";
    public const string PaddingChangesSize = "EMA0017";
    public const string DuplicateNetworkName = "EMA0018";
}
