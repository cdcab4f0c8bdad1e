using static TorchSharp.torch;

namespace EMANet.Runtime.Blocks;

/// <summary>Bilinear resize to another map's size or by a scale. No parameters.</summary>
public sealed class BilinearUpsample(bool alignCorners = true) : nn.Module(nameof(BilinearUpsample))
{
    public bool AlignCorners { get; } = alignCorners;

    /// <summary>Resizes <paramref name="input"/> to the height and width of <paramref name="sizeOf"/>.</summary>
    public Tensor forward(Tensor input, Tensor sizeOf) =>
        nn.functional.interpolate(input, new long[] { sizeOf.shape[^2], sizeOf.shape[^1] }, mode: InterpolationMode.Bilinear, align_corners: AlignCorners);

    /// <summary>Resizes by <paramref name="scale"/> (output size floor(size * scale), as PyTorch).</summary>
    public Tensor forward(Tensor input, double scale) =>
        nn.functional.interpolate(input, new long[] { (long)Math.Floor(input.shape[^2] * scale), (long)Math.Floor(input.shape[^1] * scale) },
            mode: InterpolationMode.Bilinear, align_corners: AlignCorners);
}

/// <summary>Concatenation along channels. No parameters.</summary>
public sealed class Concatenate() : nn.Module(nameof(Concatenate))
{
    public Tensor forward(params Tensor[] inputs) => cat(inputs, 1);
}

/// <summary>Element-wise sum (a residual add). No parameters.</summary>
public sealed class ResidualAdd() : nn.Module(nameof(ResidualAdd))
{
    public Tensor forward(params Tensor[] inputs)
    {
        var sum = inputs[0].add(inputs[1], Scalars.One);
        for (int i = 2; i < inputs.Length; i++) sum = sum.add(inputs[i], Scalars.One);
        return sum;
    }
}
