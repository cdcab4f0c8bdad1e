namespace EMANet.Engine;

public enum FindingSeverity
{
    Warning,
    Error,
}

/// <summary>
/// A problem the engine found in a declaration. <see cref="LayerIndex"/> is -1 for the network
/// attribute; <see cref="Argument"/> names the attribute argument at fault, if any, so that the
/// compiler can point at it.
/// </summary>
public sealed record EngineFinding(string Id, FindingSeverity Severity, int LayerIndex, string? Argument, string Message);
