namespace EMANet.Runtime.Networks;

/// <summary>Channels x height x width of one image (batch excluded).</summary>
public readonly record struct TensorShape(int Channels, int Height, int Width)
{
    public override string ToString() => $"{Channels}x{Height}x{Width}";

    /// <summary>Parses "CxHxW" (e.g. "3x513x513").</summary>
    public static TensorShape Parse(string text)
    {
        var parts = text.Split('x', 'X');
        if (parts.Length != 3 || !int.TryParse(parts[0], out var c) || !int.TryParse(parts[1], out var h) || !int.TryParse(parts[2], out var w) || c <= 0 || h <= 0 || w <= 0)
            throw new FormatException($"input shape '{text}' is not of the form CxHxW with positive integers (e.g. 3x513x513)");
        return new TensorShape(c, h, w);
    }
}
