using System.Buffers.Binary;
using System.Text;
using EMANet.Runtime.IO;
using static EMANet.Tests.IO.IoTestSupport;
using static TorchSharp.torch;

namespace EMANet.Tests.IO;

public sealed class SafetensorsTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static byte[] FileBytes(string json, byte[] data, ulong? declaredLength = null)
    {
        var header = Encoding.UTF8.GetBytes(json);
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    [Fact]
    public void Write_ProducesTheSpecifiedBytes()
    {
        using var a = tensor(new float[] { 1.0f, -2.0f });
        using var b = tensor(new byte[] { 1, 2, 3 });
        var path = _temp.File("two.safetensors");
        WeightsFile.Write(path, new Dictionary<string, Tensor> { ["a"] = a, ["b"] = b });

        const string json = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[8,11]}}";
        Assert.Equal(107, json.Length);
        var expected = FileBytes(json + "     ", new byte[] { 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0, 1, 2, 3 });
        Assert.Equal(expected, File.ReadAllBytes(path));
    }

    [Fact]
    public void RoundTrip_EveryDtype_ScalarsEmptiesViewsAndMetadata()
    {
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>
        {
            ["f32"] = randn(3, 4),
            ["f16"] = randn(2, 3).to(ScalarType.Float16),
            ["bf16"] = randn(5).to(ScalarType.BFloat16),
            ["f64"] = randn(2, 2, 2, dtype: ScalarType.Float64),
            ["i64"] = tensor(new long[] { long.MinValue, -1, 0, long.MaxValue }),
            ["i32"] = tensor(new[] { int.MinValue, 7, int.MaxValue }),
            ["i16"] = tensor(new short[] { short.MinValue, 3, short.MaxValue }),
            ["i8"] = tensor(new sbyte[] { -128, 0, 127 }),
            ["u8"] = tensor(new byte[] { 0, 128, 255 }),
            ["bool"] = tensor(new[] { true, false, true }),
            ["scalar"] = tensor(2.5f),
            ["empty"] = zeros(0, 3),
            ["transposed"] = randn(3, 5).t(),
        };
        var meta = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcode <&> \"quoted\"" };
        var path = _temp.File("all.safetensors");
        SafetensorsWriter.Write(path, tensors, meta);

        using var read = WeightsFile.Read(path);
        AssertSameTensors(tensors, read);
        Assert.Equal(meta, read.Metadata);
        Assert.True(read["transposed"].is_contiguous());
    }

    [Fact]
    public void Read_PythonWrittenFixture_KeepsHeaderOrderAndMetadata()
    {
        var path = Fixture("ema_head.safetensors");
        using var read = SafetensorsReader.Read(path);
        Assert.Equal(23, read.Count);
        Assert.Equal("fc0.conv.weight", read.Keys.First());
        Assert.Equal("fc2.bias", read.Keys.Last());
        Assert.Equal("ema_head", read.Metadata["fixture"]);
        Assert.Equal(new long[] { 1, 32, 8 }, read["emau.mu"].shape);
        Assert.Equal(ScalarType.Int64, read["fc0.bn.num_batches_tracked"].dtype);
        Assert.Empty(read["fc0.bn.num_batches_tracked"].shape);
        // The bases were L2-normalised over C in Python: every column has unit norm.
        var norms = read["emau.mu"].norm(1).data<float>().ToArray();
        Assert.All(norms, n => Assert.InRange(n, 0.999f, 1.001f));
    }

    public static TheoryData<string, string, int, string> Defects => new()
    {
        { "malformed JSON", "{\"a\":{\"dtype\":\"F32\",", 0, "not valid JSON" },
        { "not an object", "[1, 2]  ", 0, "does not start with '{'" },
        { "offsets beyond the data", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, "run past the data section (8 bytes)" },
        { "overlap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "tensor 'b' (data_offsets [4, 12]) overlaps tensor 'a'" },
        { "gap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12, "gap before 'b'" },
        { "not covering", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8, "the data section has 8 bytes but the tensors cover 4" },
        { "byte count", "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "span 8 bytes but F32 [3] needs 12" },
        { "unknown dtype", "{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "unsupported dtype 'F8_E4M3'" },
        { "duplicate", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 2, "names 'a' twice" },
        { "negative dim", "{\"a\":{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,1]}}", 1, "shape[0] = -1 is not a non-negative" },
        { "fractional dim", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1.5],\"data_offsets\":[0,1]}}", 1, "shape[0] = 1.5" },
        { "overflowing shape", "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],\"data_offsets\":[0,4]}}", 4, "needs more than 2^63" },
        { "reversed offsets", "{\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,0]}}", 4, "end before they begin" },
        { "three offsets", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1,2]}}", 1, "data_offsets has 3 numbers" },
        { "unknown field", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"extra\":1}}", 1, "unknown field 'extra'" },
        { "no dtype", "{\"a\":{\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "tensor 'a': no dtype" },
        { "metadata value", "{\"__metadata__\":{\"k\":1},\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1, "'__metadata__' entry 'k' is not a string" },
        { "entry not object", "{\"a\":[1]}", 0, "tensor 'a': its entry is not a JSON object" },
        { "bool byte", "{\"a\":{\"dtype\":\"BOOL\",\"shape\":[1],\"data_offsets\":[0,1]}}", -2, "BOOL element 0 is byte 0x02" },
    };

    [Theory]
    [MemberData(nameof(Defects))]
    public void Read_Defect_NamesFileAndDefect(string what, string json, int dataLength, string fragment)
    {
        var data = dataLength == -2 ? new byte[] { 2 } : new byte[dataLength];
        var path = _temp.File(what.Replace(' ', '_') + ".safetensors");
        File.WriteAllBytes(path, FileBytes(json, data));
        AssertDefect(path, () => SafetensorsReader.Read(path).Dispose(), fragment);
    }

    [Fact]
    public void Read_HeaderLengthBeyondTheFile()
    {
        var path = _temp.File("long.safetensors");
        File.WriteAllBytes(path, FileBytes("{}", Array.Empty<byte>(), declaredLength: 1UL << 62));
        AssertDefect(path, () => SafetensorsReader.Read(path).Dispose(), "header length 4611686018427387904 runs past the end of the file (10 bytes)");
    }

    [Fact]
    public void Read_FileShorterThanTheLengthPrefix()
    {
        var path = _temp.File("tiny.safetensors");
        File.WriteAllBytes(path, new byte[] { 1, 2, 3 });
        AssertDefect(path, () => SafetensorsReader.Read(path).Dispose(), "3 bytes, fewer than the 8-byte header length");
    }

    [Fact]
    public void Read_EmptyHeader_IsAnEmptyDictionary()
    {
        var path = _temp.File("empty.safetensors");
        File.WriteAllBytes(path, FileBytes("{}      ", Array.Empty<byte>()));
        using var read = SafetensorsReader.Read(path);
        Assert.Empty(read);
    }

    [Fact]
    public void Write_RejectsDuplicateAndReservedNames()
    {
        using var t = ones(1);
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(new MemoryStream(), new[] { KeyValuePair.Create("x", t), KeyValuePair.Create("x", t) }));
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(new MemoryStream(), new[] { KeyValuePair.Create("__metadata__", t) }));
    }
}
