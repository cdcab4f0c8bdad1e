using System.Buffers.Binary;
using System.IO.Compression;
using System.Diagnostics;
using System.Text;
using EMANet.Runtime.IO;
using Xunit.Abstractions;
using static EMANet.Tests.IO.IoTestSupport;
using static TorchSharp.torch;

namespace EMANet.Tests.IO;

/// <summary>
/// Seeded random corruption of valid files (byte flips, truncation, extension, insertion, deletion,
/// extreme values over length fields). Every outcome must be either a faithful load or a
/// <see cref="WeightsFormatException"/> whose message starts with the file: never another exception,
/// a crash or a hang. A load is faithful when it equals the original or when it is exactly what the
/// mutated file says (writing it back reproduces the mutated file byte for byte: a flipped byte in
/// tensor data or in a name is not detectable in formats without checksums). PyTorch archives carry
/// CRC-32s, so there a load must equal the original.
/// </summary>
public sealed class RobustnessTests(ITestOutputHelper output) : IDisposable
{
    /// <summary>150 per file by default; set EMANET_FUZZ_CASES (and EMANET_FUZZ_SEED) for a longer local run.</summary>
    private static readonly int CasesPerFile = int.TryParse(Environment.GetEnvironmentVariable("EMANET_FUZZ_CASES"), out var n) && n > 0 ? n : 150;

    private static readonly int Seed = int.TryParse(Environment.GetEnvironmentVariable("EMANET_FUZZ_SEED"), out var s) ? s : 20261124;
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    public enum Kind { Safetensors, PyTorch, Npy }

    private static byte[] SmallSafetensors()
    {
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>
        {
            ["conv.weight"] = arange(24, dtype: ScalarType.Float32).reshape(2, 3, 2, 2) / 7,
            ["bn.num_batches_tracked"] = tensor(77L),
            ["mask"] = tensor(new[] { true, false, true }),
            ["half"] = tensor(new float[] { 1.5f, -2 }).to(ScalarType.BFloat16),
            ["empty"] = zeros(0, 2),
            ["byte"] = tensor((byte)9),
        };
        var stream = new MemoryStream();
        SafetensorsWriter.Write(stream, tensors, new Dictionary<string, string> { ["format"] = "pt" });
        return stream.ToArray();
    }

    public static IEnumerable<object[]> Sources() => new[]
    {
        new object[] { "small.safetensors", Kind.Safetensors },
        new object[] { "views_expected.safetensors", Kind.Safetensors },
        new object[] { "views.pth", Kind.PyTorch },
        new object[] { "npy/f4_c.npy", Kind.Npy },
        new object[] { "npy/i8_v2.npy", Kind.Npy },
    };

    [Theory]
    [MemberData(nameof(Sources))]
    public void MutatedFiles_LoadFaithfullyOrFailWithWeightsFormatException(string source, Kind kind)
    {
        var original = source == "small.safetensors" ? SmallSafetensors() : File.ReadAllBytes(Fixture(source));
        var originalPath = _temp.File("original" + Path.GetExtension(source));
        File.WriteAllBytes(originalPath, original);
        using var expected = Load(kind, originalPath);

        var random = new Random(Stable(source));
        var failures = new List<string>();
        int loaded = 0, refused = 0;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < CasesPerFile; i++)
        {
            var (bytes, what) = Mutate(original, random);
            var path = _temp.File($"case-{i:D3}{Path.GetExtension(source)}");
            File.WriteAllBytes(path, bytes);
            using var scope = NewDisposeScope();
            try
            {
                using var result = Load(kind, path);
                string? problem = Faithful(kind, expected, result, bytes);
                if (problem is null) loaded++;
                else failures.Add($"case {i} ({what}): loaded, but {problem}");
            }
            catch (WeightsFormatException e) when (e.Message.StartsWith(path + ": ", StringComparison.Ordinal))
            {
                refused++;
            }
            catch (Exception e)
            {
                failures.Add($"case {i} ({what}): {e.GetType().Name}: {e.Message}");
            }
        }
        output.WriteLine($"{source}: {loaded} loaded, {refused} refused, {clock.ElapsedMilliseconds} ms");
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
        Assert.True(refused > CasesPerFile / 4, $"only {refused} of {CasesPerFile} mutations were refused: the mutations test too little");
    }

    /// <summary>
    /// The archive's CRCs stop corrupt pickles before the unpickler sees them, so here data.pkl is
    /// mutated and the archive rebuilt with valid CRCs. The mutated pickle may legitimately say
    /// something else (another name, shape or offset), so a load only has to be well-formed.
    /// mmengine.pth adds numpy and mmengine objects (placeholders) around the state dict.
    /// </summary>
    [Theory]
    [InlineData("views.pth")]
    [InlineData("mmengine.pth")]
    public void MutatedPickles_InValidArchives_LoadOrFailWithWeightsFormatException(string source)
    {
        var records = new List<(string Name, byte[] Bytes)>();
        using (var zip = ZipFile.OpenRead(Fixture(source)))
            foreach (var entry in zip.Entries)
            {
                using var s = entry.Open();
                var m = new MemoryStream();
                s.CopyTo(m);
                records.Add((entry.FullName, m.ToArray()));
            }
        var pickle = records.Single(r => r.Name.EndsWith("/data.pkl")).Bytes;

        var random = new Random(Stable(source == "views.pth" ? "data.pkl" : source + "/data.pkl"));
        var failures = new List<string>();
        int loaded = 0, refused = 0;
        for (int i = 0; i < CasesPerFile * 2; i++)
        {
            var (mutated, what) = Mutate(pickle, random);
            var path = _temp.File($"pickle-{i:D3}.pth");
            using (var file = File.Create(path))
            using (var zip = new ZipArchive(file, ZipArchiveMode.Create))
                foreach (var (name, bytes) in records)
                {
                    using var s = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
                    s.Write(name.EndsWith("/data.pkl") ? mutated : bytes);
                }
            using var scope = NewDisposeScope();
            try
            {
                using var result = WeightsFile.Read(path);
                Assert.All(result.Values, t => Assert.True(t.is_contiguous()));
                loaded++;
            }
            catch (WeightsFormatException e) when (e.Message.StartsWith(path + ": ", StringComparison.Ordinal))
            {
                refused++;
            }
            catch (Exception e)
            {
                failures.Add($"case {i} ({what}): {e.GetType().Name}: {e.Message}");
            }
        }
        output.WriteLine($"{source} data.pkl: {loaded} loaded, {refused} refused");
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
        Assert.True(refused > CasesPerFile / 2, $"only {refused} mutated pickles were refused");
    }

    private static int Stable(string s) => s.Aggregate(Seed, (h, c) => unchecked(h * 31 + c)) & 0x7fffffff;

    /// <summary>The file as a dictionary; .npy arrays are wrapped as {"array": tensor}.</summary>
    private static TensorDictionary Load(Kind kind, string path)
    {
        if (kind != Kind.Npy) return WeightsFile.Read(path);
        var dict = new TensorDictionary();
        dict.Add("array", NpyFile.Read(path));
        return dict;
    }

    private static string? Faithful(Kind kind, TensorDictionary expected, TensorDictionary result, byte[] file)
    {
        if (Same(expected, result)) return null;
        if (kind == Kind.PyTorch) return "the tensors differ from the original although the archive's checksums passed";
        var written = new MemoryStream();
        if (kind == Kind.Npy)
        {
            // Written back as version 1.0: compare the header dict and the data, whatever the version.
            NpyFile.Write(written, result["array"]);
            var back = written.ToArray();
            return NpyParts(back).Header == NpyParts(file).Header && NpyParts(back).Data.SequenceEqual(NpyParts(file).Data)
                ? null : $"the result is neither the original nor what the mutated file says ({NpyParts(file).Header} / {NpyParts(back).Header})";
        }
        SafetensorsWriter.Write(written, result, result.Metadata);
        return written.ToArray().AsSpan().SequenceEqual(file) ? null : "the result is neither the original nor what the mutated file says";
    }

    /// <summary>The header dict text (without whitespace, which Python literals may vary) and the data bytes of a .npy file.</summary>
    private static (string Header, byte[] Data) NpyParts(byte[] file)
    {
        int start = file[6] == 1 ? 10 : 12;
        int length = file[6] == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(8)) : (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(8));
        var header = new string(Encoding.Latin1.GetString(file, start, length).Where(c => !char.IsWhiteSpace(c)).ToArray());
        return (header, file[(start + length)..]);
    }

    private static bool Same(TensorDictionary a, TensorDictionary b)
    {
        if (!a.Keys.SequenceEqual(b.Keys)) return false;
        foreach (var (name, t) in a)
        {
            var u = b[name];
            if (t.dtype != u.dtype || !t.shape.SequenceEqual(u.shape)) return false;
            if (t.numel() > 0 && !t.bytes.SequenceEqual(u.bytes)) return false;
        }
        return true;
    }

    private static (byte[] Bytes, string What) Mutate(byte[] original, Random random)
    {
        var bytes = (byte[])original.Clone();
        switch (random.Next(6))
        {
            case 0:
            {
                int flips = random.Next(1, 5);
                var at = new List<int>();
                for (int k = 0; k < flips; k++)
                {
                    int p = random.Next(bytes.Length);
                    bytes[p] ^= (byte)random.Next(1, 256);
                    at.Add(p);
                }
                return (bytes, $"flipped bytes at {string.Join(", ", at)}");
            }
            case 1:
            {
                int length = random.Next(bytes.Length);
                return (bytes[..length], $"truncated to {length}");
            }
            case 2:
            {
                var extra = new byte[random.Next(1, 65)];
                random.NextBytes(extra);
                return ([.. bytes, .. extra], $"extended by {extra.Length}");
            }
            case 3:
            {
                int p = random.Next(Math.Max(1, bytes.Length - 8));
                ulong value = random.Next(4) switch { 0 => ulong.MaxValue, 1 => 0x7FFFFFFF, 2 => 0, _ => (ulong)random.NextInt64() };
                for (int k = 0; k < 8 && p + k < bytes.Length; k++) bytes[p + k] = (byte)(value >> (8 * k));
                return (bytes, $"0x{value:X} written at {p}");
            }
            case 4:
            {
                int p = random.Next(bytes.Length + 1);
                byte b = (byte)random.Next(256);
                return ([.. bytes[..p], b, .. bytes[p..]], $"0x{b:X2} inserted at {p}");
            }
            default:
            {
                int p = random.Next(bytes.Length);
                int n = Math.Min(random.Next(1, 17), bytes.Length - p);
                return ([.. bytes[..p], .. bytes[(p + n)..]], $"{n} bytes deleted at {p}");
            }
        }
    }
}
