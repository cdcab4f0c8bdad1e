using System.Buffers.Binary;
using System.Text;
using EMANet.Runtime.IO;
using static EMANet.Tests.IO.IoTestSupport;
using static TorchSharp.torch;

namespace EMANet.Tests.IO;

public sealed class PyTorchCheckpointTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("ema_head")]
    [InlineData("emanet_small")]
    [InlineData("torchvision_resnet18")]
    public void Fixture_PthAndSafetensors_HoldIdenticalTensors(string name)
    {
        using var pth = WeightsFile.Read(Fixture(name + ".pth"));
        using var st = WeightsFile.Read(Fixture(name + ".safetensors"));
        AssertSameTensors(st, pth);
        Assert.Equal("", pth.Metadata[PyTorchCheckpointReader.StateDictPathKey]);
        Assert.Equal("", pth.Metadata[PyTorchCheckpointReader.SkippedKey]);
    }

    [Fact]
    public void Views_SharedStoragesAndEveryDtype_ComeOutAsPyTorchHadThem()
    {
        using var pth = PyTorchCheckpointReader.Read(Fixture("views.pth"));
        using var expected = SafetensorsReader.Read(Fixture("views_expected.safetensors"));
        AssertSameTensors(expected, pth);

        // The wrapper dict was unwrapped; nothing inside the state dict was skipped.
        Assert.Equal("state_dict", pth.Metadata[PyTorchCheckpointReader.StateDictPathKey]);
        Assert.Equal("", pth.Metadata[PyTorchCheckpointReader.SkippedKey]);

        // Independent of the Python-written expectation: the views relate as they did in PyTorch.
        using var t = pth["base"].t();
        AssertBitwiseEqual(t, pth["transposed"], "transposed");
        Assert.True(pth["transposed"].is_contiguous());
        var expanded = pth["expanded"].data<float>().ToArray();
        for (int r = 0; r < 3; r++)
            Assert.All(Enumerable.Range(0, 4), c => Assert.Equal(expanded[4 * r], expanded[4 * r + c]));
        Assert.Equal(new double[] { 0, 3, 6, 9, 12, 15, 18 }, pth["strided"].data<double>().ToArray());
        Assert.Equal(3.5f, pth["scalar"].item<float>());
        Assert.Equal(new long[] { 0, 3 }, pth["empty"].shape);
        Assert.Equal(new long[] { 2, 4, 5, 3 }, pth["permuted"].shape);
    }

    [Fact]
    public void Malicious_RefusesTheGlobalAndRunsNothing()
    {
        var path = Fixture("malicious.pth");
        AssertDefect(path, () => WeightsFile.Read(path).Dispose(), "refuses global 'posix.system'");
    }

    [Fact]
    public void Legacy_IsNamedAsSuch()
    {
        var path = Fixture("legacy.pth");
        Assert.Equal(WeightsFormat.PyTorchLegacy, WeightsFormatDetector.Detect(path));
        AssertDefect(path, () => WeightsFile.Read(path).Dispose(), "legacy (pre-1.6, non-zip) PyTorch file");
    }

    [Fact]
    public void Protocol4Opcodes_AndAllowedCallables()
    {
        // {'w': _rebuild_parameter(_rebuild_tensor_v2(...), True, OrderedDict()), 'dev': torch.device('cuda', 1),
        //  'lr': 0.5, 'steps': [1, -300], 'big': -2**40, 'b': <BFloat16 tensor sharing the global by memo>}
        var p = new PickleBuilder().Proto(4).Op(0x95).Op(new byte[8]) // FRAME (length is only a hint)
            .ShortStr("collections").Op(0x94)                                        // SHORT_BINUNICODE, MEMOIZE -> 0
            .ShortStr("OrderedDict").Op(0x94).Op(0x93).Op(0x94)                      // STACK_GLOBAL -> memo 2
            .EmptyTuple().Op(0x81)                                                   // NEWOBJ OrderedDict()
            .Mark()
            .ShortStr("w")
            .Global("torch._utils", "_rebuild_parameter")
            .Tensor("FloatStorage", "0", 4, 1, new long[] { 3 }, new long[] { 1 })
            .Op(0x88).Op((byte)'h', 2).EmptyTuple().Reduce().Op(0x87).Reduce()             // TUPLE3, REDUCE
            .ShortStr("dev").Global("torch", "device").ShortStr("cuda").Int(1).Op(0x86).Reduce()
            .ShortStr("lr").Op((byte)'G').Op(0x3F, 0xE0, 0, 0, 0, 0, 0, 0)           // BINFLOAT 0.5
            .ShortStr("steps").Op(']').Mark().Int(1).Op(0x8a, 2).Op(0xD4, 0xFE).Op('e') // EMPTY_LIST, LONG1 -300, APPENDS
            .ShortStr("big").Op(0x8a, 6).Op(0, 0, 0, 0, 0, 0xFF)
            .ShortStr("b").Tensor("BFloat16Storage", "1", 2, 0, new long[] { 2 }, new long[] { 1 })
            .SetItems().Stop().ToArray();
        var path = _temp.File("proto4.pth");
        var bf16 = new byte[] { 0x80, 0x3F, 0x00, 0xC0 }; // 1.0, -2.0
        CheckpointZip.Write(path, p, new Dictionary<string, byte[]> { ["0"] = CheckpointZip.Floats(9, 1, 2, 3), ["1"] = bf16 });

        using var read = WeightsFile.Read(path);
        Assert.Equal(new[] { "w", "b" }, read.Keys);
        Assert.Equal(new float[] { 1, 2, 3 }, read["w"].data<float>().ToArray());
        Assert.Equal(ScalarType.BFloat16, read["b"].dtype);
        using var b32 = read["b"].to(ScalarType.Float32);
        Assert.Equal(new float[] { 1, -2 }, b32.data<float>().ToArray());
        Assert.Equal("dev,lr,steps,big", read.Metadata[PyTorchCheckpointReader.SkippedKey]);
    }

    [Fact]
    public void BigEndianArchive_IsSwapped()
    {
        var path = _temp.File("big.pth");
        var big = new byte[8];
        BinaryPrimitives.WriteSingleBigEndian(big, 1.5f);
        BinaryPrimitives.WriteSingleBigEndian(big.AsSpan(4), -7f);
        CheckpointZip.Write(path, PickleBuilder.StateDict(("x", new long[] { 2 })), new Dictionary<string, byte[]> { ["0"] = big }, byteorder: "big");
        using var read = WeightsFile.Read(path);
        Assert.Equal(new[] { 1.5f, -7f }, read["x"].data<float>().ToArray());
    }

    [Fact]
    public void NestedCheckpoints_AreUnwrappedOrFlattened()
    {
        // {'model': {'state_dict': {'a': t}}, 'epoch': 3}  -> path model.state_dict, key 'a'
        var wrapped = new PickleBuilder().Proto(2).EmptyDict()
            .Str("model").EmptyDict().Str("state_dict").EmptyDict()
            .Str("a").Tensor("FloatStorage", "0", 1, 0, new long[] { 1 }, new long[] { 1 }).SetItem()
            .SetItem().SetItem()
            .Str("epoch").Int(3).SetItem().Stop().ToArray();
        var path = _temp.File("wrapped.pth");
        CheckpointZip.Write(path, wrapped, new Dictionary<string, byte[]> { ["0"] = CheckpointZip.Floats(4) });
        using (var read = WeightsFile.Read(path))
        {
            Assert.Equal(new[] { "a" }, read.Keys);
            Assert.Equal("model.state_dict", read.Metadata[PyTorchCheckpointReader.StateDictPathKey]);
        }

        // {'enc': {0: t, 'x': {'y': t}}} -> 'enc.0', 'enc.x.y' (no wrapper key: flattened)
        var nested = new PickleBuilder().Proto(2).EmptyDict()
            .Str("enc").EmptyDict()
            .Int(0).Tensor("FloatStorage", "0", 1, 0, new long[] { 1 }, new long[] { 1 }).SetItem()
            .Str("x").EmptyDict().Str("y").Tensor("FloatStorage", "0", 1, 0, new long[] { 1 }, new long[] { 1 }).SetItem().SetItem()
            .SetItem().Stop().ToArray();
        var path2 = _temp.File("nested.pth");
        CheckpointZip.Write(path2, nested, new Dictionary<string, byte[]> { ["0"] = CheckpointZip.Floats(4) });
        using (var read = WeightsFile.Read(path2))
            Assert.Equal(new[] { "enc.0", "enc.x.y" }, read.Keys);
    }

    private string Write(string name, byte[] pickle, Dictionary<string, byte[]>? storages = null, string prefix = "archive", string? byteorder = "little")
    {
        var path = _temp.File(name);
        CheckpointZip.Write(path, pickle, storages ?? new Dictionary<string, byte[]> { ["0"] = CheckpointZip.Floats(1, 2, 3, 4) }, prefix, byteorder);
        return path;
    }

    private static PickleBuilder Begin() => new PickleBuilder().Proto(2).EmptyDict().Str("t");

    public static TheoryData<string, Func<byte[]>, string> PickleDefects => new()
    {
        { "unknown opcode", () => new PickleBuilder().Proto(2).Op('I').Op(Encoding.ASCII.GetBytes("1\n")).Stop().ToArray(), "unsupported pickle opcode 0x49 ('I')" },
        { "builtins.eval", () => new PickleBuilder().Proto(2).Global("builtins", "eval").Stop().ToArray(), "refuses global 'builtins.eval'" },
        { "stack global os.system", () => new PickleBuilder().Proto(4).ShortStr("os").ShortStr("system").Op(0x93).Stop().ToArray(), "refuses global 'os.system'" },
        { "rebuild v1", () => new PickleBuilder().Proto(2).Global("torch._utils", "_rebuild_tensor").Stop().ToArray(), "refuses global 'torch._utils._rebuild_tensor'" },
        { "calling a storage type", () => new PickleBuilder().Proto(2).Global("torch", "FloatStorage").EmptyTuple().Reduce().Stop().ToArray(), "global 'torch.FloatStorage' cannot be called" },
        { "no STOP", () => new PickleBuilder().Proto(2).EmptyDict().ToArray(), "ends without a STOP" },
        { "protocol 1", () => new PickleBuilder().Proto(1).EmptyDict().Stop().ToArray(), "unsupported pickle protocol 1" },
        { "memo", () => new PickleBuilder().Proto(2).BinGet(7).Stop().ToArray(), "memo entry 7 was never stored" },
        { "underflow", () => new PickleBuilder().Proto(2).SetItem().Stop().ToArray(), "stack underflow" },
        { "string past end", () => new PickleBuilder().Proto(2).Op((byte)'X', 0xFF, 0xFF, 0xFF, 0x7F).Stop().ToArray(), "runs past the end of the pickle" },
        { "huge int", () => new PickleBuilder().Proto(2).Op(0x8a, 9).Op(new byte[9]).Stop().ToArray(), "integer of 9 bytes" },
        { "two values at STOP", () => new PickleBuilder().Proto(2).EmptyDict().EmptyDict().Stop().ToArray(), "STOP with 2 values" },
        { "list root", () => new PickleBuilder().Proto(2).Op(']').Stop().ToArray(), "holds a list, not a dict" },
        { "view beyond storage", () => Begin().Tensor("FloatStorage", "0", 4, 2, new long[] { 2, 2 }, new long[] { 2, 1 }).SetItem().Stop().ToArray(), "reach element 5 of storage '0', which has 4" },
        { "storage key", () => Begin().Tensor("FloatStorage", "../x", 4, 0, new long[] { 4 }, new long[] { 1 }).SetItem().Stop().ToArray(), "storage key '../x'" },
        { "missing record", () => Begin().Tensor("FloatStorage", "5", 4, 0, new long[] { 4 }, new long[] { 1 }).SetItem().Stop().ToArray(), "no record 'archive/data/5'" },
        { "short storage", () => Begin().Tensor("FloatStorage", "0", 8, 0, new long[] { 8 }, new long[] { 1 }).SetItem().Stop().ToArray(), "record 'archive/data/0' has 16 bytes but 32 are needed" },
        { "conflicting storage", () => Begin().Tensor("FloatStorage", "0", 4, 0, new long[] { 4 }, new long[] { 1 }).SetItem()
            .Str("u").Tensor("IntStorage", "0", 4, 0, new long[] { 4 }, new long[] { 1 }).SetItem().Stop().ToArray(), "storage '0' is declared as Float32 x 4 and as Int32 x 4" },
        { "self reference", () => new PickleBuilder().Proto(2).EmptyDict().BinPut(0).Str("me").BinGet(0).SetItem().Stop().ToArray(), "the dict at 'me' was reached before" },
    };

    [Theory]
    [MemberData(nameof(PickleDefects))]
    public void PickleDefect_NamesFileAndDefect(string what, Func<byte[]> pickle, string fragment)
    {
        var path = Write(what.Replace(' ', '_') + ".pth", pickle());
        AssertDefect(path, () => WeightsFile.Read(path).Dispose(), fragment);
    }

    [Fact]
    public void ZipDefects_NameFileAndDefect()
    {
        var sd = PickleBuilder.StateDict(("x", new long[] { 4 }));

        var noPickle = _temp.File("nopickle.pth");
        using (var zip = System.IO.Compression.ZipFile.Open(noPickle, System.IO.Compression.ZipArchiveMode.Create))
            zip.CreateEntry("archive/other");
        AssertDefect(noPickle, () => WeightsFile.Read(noPickle).Dispose(), "no <archive>/data.pkl record");

        var badOrder = Write("order.pth", sd, byteorder: "middle");
        AssertDefect(badOrder, () => WeightsFile.Read(badOrder).Dispose(), "says 'middle'");

        var corrupt = Write("crc.pth", sd, new Dictionary<string, byte[]> { ["0"] = CheckpointZip.Floats(11, 22, 33, 44) });
        var bytes = File.ReadAllBytes(corrupt);
        int at = bytes.AsSpan().IndexOf(CheckpointZip.Floats(33));
        bytes[at] ^= 0x01;
        File.WriteAllBytes(corrupt, bytes);
        AssertDefect(corrupt, () => WeightsFile.Read(corrupt).Dispose(), "record 'archive/data/0' is corrupt (CRC-32");

        var boolBytes = Write("bool.pth", Begin().Tensor("BoolStorage", "0", 2, 0, new long[] { 2 }, new long[] { 1 }).SetItem().Stop().ToArray(),
            new Dictionary<string, byte[]> { ["0"] = new byte[] { 1, 2 } });
        AssertDefect(boolBytes, () => WeightsFile.Read(boolBytes).Dispose(), "bool element 1 is byte 0x02");

        var script = _temp.File("script.pt");
        CheckpointZip.Write(script, sd, new Dictionary<string, byte[]> { ["0"] = CheckpointZip.Floats(1, 2, 3, 4) }, extra: zip =>
            zip.CreateEntry("archive/constants.pkl"));
        AssertDefect(script, () => WeightsFile.Read(script).Dispose(), "TorchScript archive");
    }

    [Fact]
    public void OlderPrefix_AndNoByteorderRecord_AreAccepted()
    {
        // PyTorch 1.6-1.13 name the folder after the file and write no byteorder record.
        var path = Write("old.pth", PickleBuilder.StateDict(("x", new long[] { 2, 2 })), prefix: "old", byteorder: null);
        using var read = WeightsFile.Read(path);
        Assert.Equal(new float[] { 1, 2, 3, 4 }, read["x"].data<float>().ToArray());
        Assert.Equal(new long[] { 2, 2 }, read["x"].shape);
    }
}
