namespace EMANet.Runtime.Data;

/// <summary>A sample left out of a dataset opened with skipping enabled, and why.</summary>
public sealed record SkippedSample(string Id, string Reason);
