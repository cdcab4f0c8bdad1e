namespace EMANet.Runtime.Data;

/// <summary>
/// A small deterministic random generator (SplitMix64). Its sequence depends only on the seed, never on
/// the .NET version or on threads, so scenes, shuffles and augmentations are reproducible. Not thread-safe:
/// give each sample its own instance via <see cref="Derive"/>.
/// </summary>
public sealed class SeededRandom
{
    private ulong _state;

    public SeededRandom(ulong seed) => _state = seed;

    /// <summary>A generator whose seed mixes all the given keys (e.g. run seed, epoch, sample index).</summary>
    public static SeededRandom Derive(params long[] keys) => new(Mix(keys));

    /// <summary>Hashes the keys into one well-mixed 64-bit seed; different key lists give unrelated seeds.</summary>
    public static ulong Mix(params long[] keys)
    {
        var h = 0x9E3779B97F4A7C15UL ^ (ulong)keys.Length;
        foreach (var key in keys)
            h = Finalize(h ^ Finalize((ulong)key + 0x632BE59BD9B4E019UL));
        return h;
    }

    public ulong NextUInt64()
    {
        _state += 0x9E3779B97F4A7C15UL;
        return Finalize(_state);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [min, max).</summary>
    public double NextDouble(double min, double max) => min + (max - min) * NextDouble();

    /// <summary>Uniform integer in [0, exclusiveMax).</summary>
    public int NextInt(int exclusiveMax)
    {
        if (exclusiveMax <= 0)
            throw new ArgumentOutOfRangeException(nameof(exclusiveMax), exclusiveMax, "must be positive");
        return (int)((NextUInt64() >> 32) * (ulong)exclusiveMax >> 32);
    }

    /// <summary>Uniform integer in [min, exclusiveMax).</summary>
    public int NextInt(int min, int exclusiveMax) => min + NextInt(exclusiveMax - min);

    public bool NextBool(double probabilityOfTrue) => NextDouble() < probabilityOfTrue;

    /// <summary>Standard normal (Box-Muller).</summary>
    public double NextGaussian()
    {
        var u = 1.0 - NextDouble();
        var v = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u)) * Math.Cos(2 * Math.PI * v);
    }

    /// <summary>Fisher-Yates shuffle in place.</summary>
    public void Shuffle<T>(T[] items)
    {
        for (var i = items.Length - 1; i > 0; i--)
        {
            var j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    private static ulong Finalize(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
