namespace EMANet.Runtime.Data;

/// <summary>The contents of an IDX file: its dimensions and its bytes, row-major.</summary>
public sealed record IdxArray(int[] Shape, byte[] Data);
