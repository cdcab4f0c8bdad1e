namespace EMANet.Generator;

/// <summary>Names of the incremental pipeline's steps, for tests that check caching.</summary>
public static class TrackingNames
{
    public const string Declarations = nameof(Declarations);
    public const string Sources = nameof(Sources);
    public const string Catalog = nameof(Catalog);
}
