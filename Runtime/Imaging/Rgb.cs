namespace EMANet.Runtime.Imaging;

/// <summary>One 8-bit RGB colour.</summary>
public readonly record struct Rgb(byte R, byte G, byte B)
{
    public override string ToString() => $"({R},{G},{B})";
}
