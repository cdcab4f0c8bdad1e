using EMANet.Runtime.Data;

namespace EMANet.Tests.Data;

public class SeededRandomTests
{
    [Fact]
    public void Same_keys_same_sequence_different_keys_different_sequence()
    {
        var a = SeededRandom.Derive(1, 2, 3);
        var b = SeededRandom.Derive(1, 2, 3);
        var c = SeededRandom.Derive(1, 3, 2);
        var xs = Enumerable.Range(0, 5).Select(_ => a.NextUInt64()).ToArray();
        Assert.Equal(xs, Enumerable.Range(0, 5).Select(_ => b.NextUInt64()));
        Assert.NotEqual(xs, Enumerable.Range(0, 5).Select(_ => c.NextUInt64()));
        Assert.NotEqual(SeededRandom.Mix(0), SeededRandom.Mix(0, 0));
    }

    [Fact]
    public void Ranges_are_respected_and_covered()
    {
        var random = new SeededRandom(42);
        var counts = new int[7];
        for (var i = 0; i < 7000; i++)
            counts[random.NextInt(7)]++;
        Assert.All(counts, n => Assert.InRange(n, 850, 1150));
        for (var i = 0; i < 1000; i++)
        {
            Assert.InRange(random.NextDouble(), 0.0, 0.9999999999);
            Assert.InRange(random.NextInt(-3, 4), -3, 3);
        }
        var items = Enumerable.Range(0, 50).ToArray();
        random.Shuffle(items);
        Assert.Equal(Enumerable.Range(0, 50), items.Order());
        Assert.NotEqual(Enumerable.Range(0, 50), items);
    }
}
