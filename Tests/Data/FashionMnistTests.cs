using System.IO.Compression;
using EMANet.Runtime.Data;
using EMANet.Tests.Imaging;

namespace EMANet.Tests.Data;

public class FashionMnistTests
{
    [FashionMnistFact]
    public void Real_files_are_read()
    {
        var train = FashionMnistArchive.Load(FashionMnistArchive.DefaultDirectory, SceneSplit.Train);
        var test = FashionMnistArchive.Load(FashionMnistArchive.DefaultDirectory, SceneSplit.Val);
        Assert.Equal(60000, train.Count);
        Assert.Equal(10000, test.Count);
        // The first item of both files is an ankle boot; pixel sums checked with Python's gzip module.
        Assert.Equal(9, train.Labels[0]);
        Assert.Equal(9, test.Labels[0]);
        Assert.Equal(76247, train.Item(0).ToArray().Sum(b => b));
        Assert.Equal(33456, test.Item(0).ToArray().Sum(b => b));
        Assert.Equal([9, 0, 0, 3, 0, 2, 7, 2, 5, 5], train.Labels.Take(10).Select(b => (int)b));
    }

    [FashionMnistFact]
    public void Scenes_are_deterministic_and_labelled_by_item_class()
    {
        var train = new FashionMnistScenesDataset(count: 20, size: 64, seed: 5);
        Assert.Equal(11, train.Classes);
        Assert.Equal("Ankle boot", train.ClassNames[10]);
        Assert.Equal(60000, train.SourceItems);
        var again = new FashionMnistScenesDataset(count: 20, size: 64, seed: 5);
        Assert.Equal(train.Get(3).Image.Pixels, again.Get(3).Image.Pixels);
        Assert.Equal(train.Get(3).Label.Labels, again.Get(3).Label.Labels);

        var val = new FashionMnistScenesDataset(split: SceneSplit.Val, count: 20, size: 64, seed: 5);
        Assert.Equal(10000, val.SourceItems);
        Assert.NotEqual(train.Get(3).Label.Labels, val.Get(3).Label.Labels);

        var seen = new HashSet<byte>();
        for (var i = 0; i < train.Count; i++)
        {
            var labels = train.Get(i).Label.Labels;
            Assert.All(labels, l => Assert.InRange(l, (byte)0, (byte)10));
            var items = labels.Count(l => l != 0);
            Assert.InRange(items, 1, labels.Length - 1); // some item, some background
            seen.UnionWith(labels);
        }
        Assert.True(seen.Count >= 8, $"only classes {string.Join(",", seen)} in 20 scenes");
    }

    [Fact]
    public void Missing_files_say_how_to_install_them()
    {
        using var dir = new TempDirectory();
        var error = Assert.Throws<DatasetException>(() => new FashionMnistScenesDataset(dir.Combine("nowhere")));
        Assert.Contains("apt-get install dataset-fashion-mnist", error.Message);
        Assert.Contains(dir.Combine("nowhere"), error.Message);

        var partial = Assert.Throws<DatasetException>(() => new FashionMnistScenesDataset(dir.Path));
        Assert.Contains("train-images-idx3-ubyte", partial.Message);
        Assert.Contains("apt-get install dataset-fashion-mnist", partial.Message);
    }

    [Fact]
    public void Idx_files_read_plain_and_gzipped_and_reject_bad_ones()
    {
        using var dir = new TempDirectory();
        byte[] idx = [0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6];
        File.WriteAllBytes(dir.Combine("plain"), idx);
        using (var gz = new GZipStream(File.Create(dir.Combine("packed.gz")), CompressionLevel.Fastest))
            gz.Write(idx);

        foreach (var name in new[] { "plain", "packed.gz" })
        {
            var array = IdxFile.Read(dir.Combine(name));
            Assert.Equal([2, 3], array.Shape);
            Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6 }, array.Data);
        }

        File.WriteAllBytes(dir.Combine("short"), idx[..15]);
        Assert.Contains(dir.Combine("short"), Assert.Throws<DatasetException>(() => IdxFile.Read(dir.Combine("short"))).Message);
        File.WriteAllBytes(dir.Combine("float"), [0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0]);
        Assert.Contains("not an unsigned-byte IDX file", Assert.Throws<DatasetException>(() => IdxFile.Read(dir.Combine("float"))).Message);
    }
}
