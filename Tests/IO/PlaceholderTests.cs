using EMANet.Runtime.IO;
using static EMANet.Tests.IO.IoTestSupport;

namespace EMANet.Tests.IO;

/// <summary>
/// Globals outside the state-dict allow-list become inert placeholders: skipped outside the state
/// dict (an mmengine checkpoint's numpy metadata, its message hub's objects), refused inside it with
/// the key path. Nothing is ever imported or run: the "malicious" globals below would create a
/// marker file if anything executed them.
/// </summary>
public sealed class PlaceholderTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public PlaceholderTests() => Marker = _temp.File("executed");

    public void Dispose() => _temp.Dispose();

    /// <summary>The file a `touch` run by a placeholder's global would create.</summary>
    private string Marker { get; }

    private static readonly float[] Weights = { 1.5f, -2, 0.25f, 4 };

    // ------------------------------------------------------------------ files written by PyTorch (tools/fixtures/make_mmengine_fixture.py)

    [Fact]
    public void MmengineCheckpoint_LoadsTheStateDict_AndSkipsMetaMessageHubOptimizerSchedulers()
    {
        using var pth = WeightsFile.Read(Fixture("mmengine.pth"));
        using var expected = WeightsFile.Read(Fixture("mmengine_expected.safetensors"));
        AssertSameTensors(expected, pth);
        Assert.Contains("decode_head.conv_seg.weight", pth.Keys);
        Assert.Equal("state_dict", pth.Metadata[PyTorchCheckpointReader.StateDictPathKey]);
        Assert.Equal("", pth.Metadata[PyTorchCheckpointReader.SkippedKey]);
    }

    [Fact]
    public void MmengineCheckpoint_WithANumpyArrayInTheStateDict_IsRefusedNamingTheKey()
    {
        var path = Fixture("mmengine_numpy_in_state_dict.pth");
        AssertDefect(path, () => WeightsFile.Read(path).Dispose(),
            "'state_dict.decode_head.conv_seg.bias' is an object of numpy.core.multiarray._reconstruct, not a tensor",
            "Nothing was imported or run",
            "torch.load(path, weights_only=False)['state_dict']");
    }

    // ------------------------------------------------------------------ hand-built pickles

    /// <summary>The reported fault: {"state_dict": {"w": t}, "epoch": 7, "best_miou": numpy.float64(0.7512)} was refused at the numpy global.</summary>
    [Fact]
    public void NumpyScalarNextToTheStateDict_IsSkipped()
    {
        var p = Root().Str("state_dict").EmptyDict().Str("w").Weight().SetItem().SetItem()
            .Str("epoch").Int(7).SetItem()
            .Str("best_miou");
        NumpyScalar(p).SetItem();
        using var read = Load(p);
        Assert.Equal(new[] { "w" }, read.Keys);
        Assert.Equal(Weights, read["w"].data<float>().ToArray());
        Assert.Equal("state_dict", read.Metadata[PyTorchCheckpointReader.StateDictPathKey]);
    }

    /// <summary>
    /// Each way a hostile or unknown global can be applied, as Python's pickle would apply it: by name,
    /// the refusal when it is "backbone.conv1.weight" of the state dict, and the pickle ops that make it.
    /// </summary>
    private static readonly Dictionary<string, (string Refusal, Func<PickleBuilder, string, PickleBuilder> Write)> Hostile = new()
    {
        ["os.system REDUCE"] = ("refuses global 'os.system' inside the state dict: 'state_dict.backbone.conv1.weight' is an object of os.system, not a tensor", (p, marker) => p.Global("os", "system").Mark().Str($"touch {marker}").Tuple().Reduce()),
        ["builtins.eval REDUCE, BUILD"] = ("refuses global 'builtins.eval' inside the state dict: 'state_dict.backbone.conv1.weight' is an object of builtins.eval", (p, marker) => p.Global("builtins", "eval").Mark().Str($"open('{marker}', 'w')").Tuple().Reduce()
            .EmptyDict().Str("x").Int(1).SetItem().Op('b')),
        ["subprocess.Popen NEWOBJ, SETITEMS, APPENDS"] = ("refuses global 'subprocess.Popen' inside the state dict: 'state_dict.backbone.conv1.weight' is an object of subprocess.Popen", (p, marker) => p.Global("subprocess", "Popen").Mark().Str("touch").Str(marker).Tuple().Op(0x81)
            .Mark().Str("k").Int(2).SetItems().Mark().Int(3).Op('e').Int(4).Op('a')),
        ["stack global posix.system NEWOBJ_EX"] = ("refuses global 'posix.system' inside the state dict: 'state_dict.backbone.conv1.weight' is an object of posix.system", (p, marker) => p.ShortStr("posix").ShortStr("system").Op(0x93)
            .Mark().Str($"touch {marker}").Tuple().EmptyDict().Op(0x92)),
        ["global passed as an argument"] = ("refuses global 'builtins.getattr' inside the state dict: 'state_dict.backbone.conv1.weight' is an object of builtins.getattr", (p, marker) => p.Global("builtins", "getattr").Mark().Global("os", "system").Str("__call__").Tuple().Reduce()
            .Mark().Str($"touch {marker}").Tuple().Reduce()),
        ["set, frozenset, bytearray"] = ("refuses global 'builtins.set' inside the state dict: 'state_dict.backbone.conv1.weight[0]' is an object of builtins.set", (p, _) => p.Mark().Op(0x8f).Mark().Int(1).Int(2).Op(0x90).Mark().Int(3).Op(0x91)
            .Op(0x96).Op(3, 0, 0, 0, 0, 0, 0, 0).Op(1, 2, 3).Tuple()),
    };

    public static TheoryData<string> HostileObjects => new(Hostile.Keys);

    [Theory]
    [MemberData(nameof(HostileObjects))]
    public void HostileObject_InMeta_IsSkippedAndNothingRuns(string what)
    {
        var hostile = Hostile[what].Write;
        var p = Root().Str("meta").EmptyDict().Str("payload");
        hostile(p, Marker).SetItem().SetItem()
            .Str("state_dict").EmptyDict().Str("w").Weight().SetItem().SetItem();
        using var read = Load(p, what);
        Assert.Equal(new[] { "w" }, read.Keys);
        Assert.Equal(Weights, read["w"].data<float>().ToArray());
        Assert.False(File.Exists(Marker));
    }

    [Theory]
    [MemberData(nameof(HostileObjects))]
    public void HostileObject_InTheStateDict_IsRefusedNamingTheKeyPath(string what)
    {
        var (refusal, hostile) = Hostile[what];
        var p = Root().Str("meta").EmptyDict().Str("epoch").Int(7).SetItem().SetItem()
            .Str("state_dict").EmptyDict().Str("w").Weight().SetItem()
            .Str("backbone.conv1.weight");
        hostile(p, Marker).SetItem().SetItem();
        var path = Write(p, what);
        AssertDefect(path, () => WeightsFile.Read(path).Dispose(), refusal, "Nothing was imported or run");
        Assert.False(File.Exists(Marker));
    }

    [Fact]
    public void PlaceholderInsideAListOrTupleOfTheStateDict_IsRefusedWithItsPosition()
    {
        // {'state_dict': {'w': t, 'extra': [1, (2, os.system('touch ...'))]}}
        var p = Root().Str("state_dict").EmptyDict().Str("w").Weight().SetItem()
            .Str("extra").Op(']').Mark().Int(1).Mark().Int(2).Global("os", "system").Mark().Str($"touch {Marker}").Tuple().Reduce().Tuple().Op('e')
            .SetItem().SetItem();
        var path = Write(p, "list");
        AssertDefect(path, () => WeightsFile.Read(path).Dispose(), "refuses global 'os.system' inside the state dict: 'state_dict.extra[1][1]' is an object of os.system");
    }

    [Fact]
    public void NestedPlaceholders_InMeta_AreSkipped()
    {
        // meta: a numpy array (_reconstruct of ndarray, BUILD with a dtype placeholder and _codecs.encode bytes),
        // a list and a dict of numpy scalars, and an mmengine HistoryBuffer holding arrays in its __dict__.
        var p = Root().Str("meta").EmptyDict()
            .Str("hist");
        NumpyArray(p).SetItem()
            .Str("scalars").Op(']').Mark();
        NumpyScalar(NumpyScalar(p)).Op('e').SetItem()
            .Str("hub").Global("mmengine.logging.history_buffer", "HistoryBuffer").EmptyTuple().Op(0x81)
            .EmptyDict().Str("_log_history");
        NumpyArray(p).SetItem().Str("max_length").Int(1000).SetItem().Op('b').SetItem()
            .SetItem()
            .Str("state_dict").EmptyDict().Str("w").Weight().SetItem().SetItem();
        using var read = Load(p);
        Assert.Equal(new[] { "w" }, read.Keys);
    }

    [Fact]
    public void PlaceholderAndOtherHashableKeys_AreKeptInMeta_AndRefusedInTheStateDict()
    {
        // meta: {numpy.int64(3): 'a', <the same key by memo>: 'b', numpy.int64(3): 'c', 0.5: 'd', (1, 2): 'e', b'k': 'f'}
        var meta = Root().Str("meta").EmptyDict();
        NumpyScalar(meta).BinPut(200).Str("a").SetItem().BinGet(200).Str("b").SetItem();
        NumpyScalar(meta).Str("c").SetItem()
            .Op((byte)'G').Op(0x3F, 0xE0, 0, 0, 0, 0, 0, 0).Str("d").SetItem()
            .Int(1).Int(2).Op(0x86).Str("e").SetItem()
            .Op((byte)'C', 1, (byte)'k').Str("f").SetItem()
            .SetItem()
            .Str("state_dict").EmptyDict().Str("w").Weight().SetItem().SetItem();
        using (var read = Load(meta, "keys-meta"))
            Assert.Equal(new[] { "w" }, read.Keys);

        var inside = Root().Str("state_dict").EmptyDict().Str("w").Weight().SetItem()
            .Str("head").EmptyDict().Str("v").Weight().SetItem();
        NumpyScalar(inside).Weight().SetItem().SetItem().SetItem();
        var path = Write(inside, "keys-state");
        AssertDefect(path, () => WeightsFile.Read(path).Dispose(),
            "refuses global 'numpy.core.multiarray.scalar' inside the state dict: 'state_dict.head' has a key that is an object of numpy.core.multiarray.scalar");

        var floatKey = Root().Str("state_dict").EmptyDict().Str("w").Weight().SetItem()
            .Op((byte)'G').Op(0x3F, 0xE0, 0, 0, 0, 0, 0, 0).Weight().SetItem().SetItem();
        var floatPath = Write(floatKey, "float-key");
        AssertDefect(floatPath, () => WeightsFile.Read(floatPath).Dispose(), "'state_dict' of the state dict has a float key 0.5, not a str or int");

        // A list cannot be a key in Python, so a pickle that makes one is malformed.
        var listKey = Root().Op(']').Str("x").SetItem();
        var listPath = Write(listKey, "list-key");
        AssertDefect(listPath, () => WeightsFile.Read(listPath).Dispose(), "dict key a list of 0 is not hashable");
    }

    [Fact]
    public void UnsupportedStorageType_IsSkippedOutsideAndRefusedInsideTheStateDict()
    {
        // A complex tensor: torch.ComplexFloatStorage is not among the supported element types.
        PickleBuilder Complex(PickleBuilder p) => p.Tensor("ComplexFloatStorage", "9", 1, 0, new long[] { 1 }, new long[] { 1 });

        var outside = Root().Str("optimizer").EmptyDict().Str("buffer");
        Complex(outside).SetItem().SetItem().Str("state_dict").EmptyDict().Str("w").Weight().SetItem().SetItem();
        using (var read = Load(outside, "complex-outside"))
            Assert.Equal(new[] { "w" }, read.Keys);

        var inside = Root().Str("state_dict").EmptyDict().Str("w").Weight().SetItem().Str("z");
        Complex(inside).SetItem().SetItem();
        var path = Write(inside, "complex-inside");
        AssertDefect(path, () => WeightsFile.Read(path).Dispose(),
            "'state_dict.z' is a tensor stored as torch.ComplexFloatStorage, an element type this reader does not support");
    }

    [Fact]
    public void PlaceholderStateDict_IsRefusedNamingItsKey()
    {
        // {'state_dict': numpy array, 'epoch': 3}: no dict of tensors, so the root is flattened and the array named.
        var p = Root().Str("state_dict");
        NumpyArray(p).SetItem().Str("epoch").Int(3).SetItem();
        var path = Write(p, "sd-array");
        AssertDefect(path, () => WeightsFile.Read(path).Dispose(),
            "refuses global 'numpy.core.multiarray._reconstruct' inside the state dict: 'state_dict' is an object of numpy.core.multiarray._reconstruct");
    }

    [Fact]
    public void AllowedGlobalsUsedWrongly_StayDefects()
    {
        // NEWOBJ of torch.device, BUILD on a list, APPEND to a dict, ADDITEMS to a list, NEWOBJ_EX of OrderedDict.
        var cases = new (string Name, PickleBuilder Pickle, string Fragment)[]
        {
            ("newobj", new PickleBuilder().Proto(2).Global("torch", "device").EmptyTuple().Op(0x81), "NEWOBJ of torch.device is not supported"),
            ("build", new PickleBuilder().Proto(2).Op(']').EmptyDict().Op('b'), "BUILD on a list of 0 is not supported"),
            ("append", new PickleBuilder().Proto(2).EmptyDict().Int(1).Op('a'), "APPEND on a dict of 0"),
            ("additems", new PickleBuilder().Proto(4).Op(']').Mark().Int(1).Op(0x90), "ADDITEMS on a list of 0"),
            ("newobj_ex", new PickleBuilder().Proto(4).Global("collections", "OrderedDict").EmptyTuple().EmptyDict().Op(0x92), "NEWOBJ_EX of collections.OrderedDict is not supported"),
        };
        foreach (var (name, pickle, fragment) in cases)
        {
            var path = Write(pickle, name);
            AssertDefect(path, () => WeightsFile.Read(path).Dispose(), fragment);
        }
    }

    [Fact]
    public void SharedAndDeepDicts_AreRefused()
    {
        // d0 = {a: d1, b: d1}, d1 = {a: d2, b: d2}, ... 12 levels: 4096 paths through 13 dicts (the reader
        // used to flatten every path, exponential in the depth).
        var shared = Root().Str("state_dict").EmptyDict().Str("w").Weight().SetItem().Str("x").EmptyDict().BinPut(0);
        for (int level = 1; level <= 12; level++)
            shared.Str("a").EmptyDict().BinPut((byte)level);
        shared.Str("z").Weight().SetItem();
        for (int level = 12; level >= 1; level--)
            shared.SetItem().BinGet((byte)(level - 1)).Str("b").BinGet((byte)level).SetItem().Op('0');
        shared.SetItem().SetItem();
        var path = Write(shared, "shared");
        AssertDefect(path, () => WeightsFile.Read(path).Dispose(), "was reached before (a dict shared by two keys or nested in itself)");

        var deep = Root().Str("state_dict").EmptyDict().Str("w").Weight().SetItem();
        for (int level = 0; level < 34; level++) deep.Str("k").EmptyDict();
        for (int level = 0; level < 34; level++) deep.SetItem();
        deep.SetItem();
        var deepPath = Write(deep, "deep");
        AssertDefect(deepPath, () => WeightsFile.Read(deepPath).Dispose(), "deeper than 32 levels");
    }

    // ------------------------------------------------------------------ helpers

    private static PickleBuilder Root() => new PickleBuilder().Proto(2).EmptyDict();

    private TensorDictionary Load(PickleBuilder p, string name = "checkpoint") => WeightsFile.Read(Write(p, name));

    private string Write(PickleBuilder p, string name)
    {
        var path = _temp.File(new string(name.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray()) + ".pth");
        CheckpointZip.Write(path, p.Stop().ToArray(), new Dictionary<string, byte[]> { ["0"] = CheckpointZip.Floats(Weights) });
        return path;
    }

    /// <summary>numpy.float64(0.7512) as numpy 1.24 pickles it at protocol 2.</summary>
    private static PickleBuilder NumpyScalar(PickleBuilder p)
    {
        p.Global("numpy.core.multiarray", "scalar");
        NumpyDtype(p);
        return p.Global("_codecs", "encode").Mark().Str("\u00b0r\u0086\u001b\u00f0\u00f9\u00e7?").Str("latin1").Tuple().Reduce()
            .Op(0x86).Reduce();
    }

    /// <summary>numpy.arange(3) as numpy 1.24 pickles it at protocol 2 (without the memo).</summary>
    private static PickleBuilder NumpyArray(PickleBuilder p)
    {
        p.Global("numpy.core.multiarray", "_reconstruct").Global("numpy", "ndarray").Int(0).Op(0x85)
            .Global("_codecs", "encode").Mark().Str("b").Str("latin1").Tuple().Reduce().Op(0x87).Reduce()
            .Mark().Int(1).Int(3).Op(0x85);
        NumpyDtype(p);
        return p.Op(0x89).Global("_codecs", "encode").Mark().Str(new string('\0', 24)).Str("latin1").Tuple().Reduce()
            .Tuple().Op('b');
    }

    /// <summary>numpy.dtype('f8', False, True) with its BUILD state (3, '&lt;', None, None, None, -1, -1, 0).</summary>
    private static PickleBuilder NumpyDtype(PickleBuilder p) =>
        p.Global("numpy", "dtype").Mark().Str("f8").Op(0x89).Op(0x88).Tuple().Reduce()
            .Mark().Int(3).Str("<").Op('N').Op('N').Op('N').Op((byte)'J', 0xFF, 0xFF, 0xFF, 0xFF).Op((byte)'J', 0xFF, 0xFF, 0xFF, 0xFF).Int(0).Tuple().Op('b');
}

internal static class PlaceholderPickles
{
    /// <summary>A float32 tensor of 4 elements in storage "0" (<c>PlaceholderTests.Weights</c>).</summary>
    public static PickleBuilder Weight(this PickleBuilder p) => p.Tensor("FloatStorage", "0", 4, 0, new long[] { 4 }, new long[] { 1 });
}
