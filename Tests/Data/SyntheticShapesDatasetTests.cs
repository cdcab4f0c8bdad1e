using EMANet.Runtime.Data;

namespace EMANet.Tests.Data;

public class SyntheticShapesDatasetTests
{
    [Fact]
    public void Scenes_depend_only_on_seed_split_and_index()
    {
        var a = new SyntheticShapesDataset(10, 40, 48, seed: 3);
        var b = new SyntheticShapesDataset(10, 40, 48, seed: 3);
        Assert.Equal(a.Get(7).Image.Pixels, b.Get(7).Image.Pixels);
        Assert.Equal(a.Get(7).Label.Labels, b.Get(7).Label.Labels);
        Assert.NotEqual(a.Get(7).Image.Pixels, a.Get(6).Image.Pixels);
        Assert.NotEqual(a.Get(7).Image.Pixels, new SyntheticShapesDataset(10, 40, 48, seed: 4).Get(7).Image.Pixels);
        Assert.NotEqual(a.Get(7).Image.Pixels, new SyntheticShapesDataset(10, 40, 48, seed: 3, split: SceneSplit.Val).Get(7).Image.Pixels);
    }

    [Fact]
    public void Labels_cover_every_class_and_leave_room_for_background()
    {
        var data = new SyntheticShapesDataset(40, 48, 48, seed: 1);
        Assert.Equal(6, data.Classes);
        Assert.Equal(["background", "circle", "rectangle", "triangle", "ring", "cross"], data.ClassNames);
        var counts = new long[256];
        for (var i = 0; i < data.Count; i++)
        {
            var sample = data.Get(i);
            Assert.Equal(48, sample.Height);
            Assert.Equal(48, sample.Width);
            foreach (var label in sample.Label.Labels)
                counts[label]++;
        }
        for (var c = 0; c < data.Classes; c++)
            Assert.True(counts[c] > 0, $"class {c} never appears");
        Assert.Equal(0, counts.Skip(data.Classes).Sum());
        var background = (double)counts[0] / counts.Sum();
        Assert.InRange(background, 0.3, 0.95);
    }

    [Fact]
    public void Shape_kinds_wear_their_pair_hue_most_of_the_time()
    {
        // Circles and rings are red, rectangles and crosses green, triangles blue, except the 20% with a
        // random hue: the expected channel should dominate most, but not all, pixels of each kind.
        var data = new SyntheticShapesDataset(60, 48, 48, seed: 2);
        int[] dominant = [-1, 0, 1, 2, 0, 1]; // per label: 0 = red, 1 = green, 2 = blue
        var total = new long[6];
        var matching = new long[6];
        for (var i = 0; i < data.Count; i++)
        {
            var sample = data.Get(i);
            for (var p = 0; p < sample.Label.Labels.Length; p++)
            {
                var label = sample.Label.Labels[p];
                if (label == 0)
                    continue;
                var px = sample.Image[p / 48, p % 48];
                int[] rgb = [px.R, px.G, px.B];
                total[label]++;
                if (rgb[dominant[label]] == rgb.Max())
                    matching[label]++;
            }
        }
        for (var label = 1; label < 6; label++)
            Assert.InRange((double)matching[label] / total[label], 0.5, 0.97);
    }

    [Fact]
    public void Class_count_limits_the_shape_kinds()
    {
        var data = new SyntheticShapesDataset(10, 32, 32, seed: 0, classes: 3);
        Assert.Equal(["background", "circle", "rectangle"], data.ClassNames);
        for (var i = 0; i < data.Count; i++)
            Assert.All(data.Get(i).Label.Labels, l => Assert.InRange(l, (byte)0, (byte)2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SyntheticShapesDataset(10, 32, 32, 0, classes: 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SyntheticShapesDataset(0, 32, 32, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => data.Get(10));
    }
}
