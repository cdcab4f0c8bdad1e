namespace EMANet.Runtime.Data;

/// <summary>
/// A sample ready for batching: the normalised image as planar floats (3 x Height x Width) and the labels
/// (Height x Width, 255 = ignore).
/// </summary>
public sealed record PreparedSample(string Id, string Source, int Height, int Width, float[] Image, byte[] Label);
