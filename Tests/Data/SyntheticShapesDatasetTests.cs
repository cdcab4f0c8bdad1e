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
    public void Each_shape_kind_mostly_wears_its_hue()
    {
        // Circles are red-ish unless given a random hue (30%): red should dominate most circle pixels.
        var data = new SyntheticShapesDataset(40, 48, 48, seed: 2);
        long circle = 0, red = 0;
        for (var i = 0; i < data.Count; i++)
        {
            var sample = data.Get(i);
            for (var p = 0; p < sample.Label.Labels.Length; p++)
            {
                if (sample.Label.Labels[p] != 1)
                    continue;
                circle++;
                var px = sample.Image[p / 48, p % 48];
                if (px.R > px.G && px.R > px.B)
                    red++;
            }
        }
        Assert.True(circle > 0);
        Assert.InRange((double)red / circle, 0.5, 0.97);
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
