using EMANet.Runtime.Imaging;
using EMANet.Runtime.Reports;
using static TorchSharp.torch;

namespace EMANet.Tests.Imaging;

public sealed class AttentionFigureTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("emanet-attention-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>4 x 4 feature map, 3 bases: base 1 explains the left half, base 2 the right half, base 0 nothing.</summary>
    private static Tensor HalfAndHalf()
    {
        var z = new float[16 * 3];
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 4; x++)
                z[(y * 4 + x) * 3 + (x < 2 ? 1 : 2)] = 1;
        return tensor(z, new long[] { 16, 3 });
    }

    [Fact]
    public void Maps_are_tiles_a_person_can_see_ordered_by_share_in_the_viridis_colour_map()
    {
        using var z = HalfAndHalf();
        var path = Path.Combine(_folder, "a.png");
        AttentionFigure.SavePng(path, z, 4, 4, image: null, bases: 2);
        var figure = ImageFile.ReadRgb(path);

        // Two tiles side by side (the two bases with pixels), each TileSize square: a tile per base, not a few pixels.
        Assert.True(figure.Width >= 2 * AttentionFigure.TileSize && figure.Height >= AttentionFigure.TileSize, $"{figure.Width}x{figure.Height}");
        // First tile: base 1 (50%, ties by index): bright (viridis' yellow end) on the left, dark (its purple end) on the right.
        var firstTileTop = figure.Height - 12 - AttentionFigure.TileSize;   // bottom margin 12
        var left = figure[firstTileTop + 60, 12 + 10];
        var right = figure[firstTileTop + 60, 12 + AttentionFigure.TileSize - 10];
        Assert.True(left.R > 200 && left.G > 200 && left.B < 80, $"left of base 1: {left}");
        Assert.True(right.R < 90 && right.G < 20 && right.B > 60, $"right of base 1: {right}");
    }

    [Fact]
    public void The_image_is_drawn_beside_the_maps()
    {
        using var z = HalfAndHalf();
        var image = new RgbImage(40, 20);
        for (int y = 0; y < 40; y++)
            for (int x = 0; x < 20; x++)
                image[y, x] = new Rgb(255, 0, 0);
        var withImage = Path.Combine(_folder, "with.png");
        var without = Path.Combine(_folder, "without.png");
        AttentionFigure.SavePng(withImage, z, 4, 4, image, bases: 3);
        AttentionFigure.SavePng(without, z, 4, 4, image: null, bases: 3);
        var a = ImageFile.ReadRgb(withImage);
        var b = ImageFile.ReadRgb(without);
        Assert.True(a.Width > b.Width);
        var inside = a[a.Height / 2, 12 + 5];
        Assert.Equal(new Rgb(255, 0, 0), inside);
    }

    [Fact]
    public void Responsibilities_of_the_wrong_size_are_refused_with_the_sizes()
    {
        using var z = zeros(15, 3);
        var error = Assert.Throws<ArgumentException>(() => AttentionFigure.RenderPng(z, 4, 4, null));
        Assert.Contains("4 x 4", error.Message);
    }
}
