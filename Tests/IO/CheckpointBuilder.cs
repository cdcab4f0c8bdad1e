using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace EMANet.Tests.IO;

/// <summary>Writes pickle opcodes by hand, to craft checkpoints for the unpickler's tests.</summary>
internal sealed class PickleBuilder
{
    private readonly MemoryStream _bytes = new();

    public PickleBuilder Op(params byte[] bytes) { _bytes.Write(bytes); return this; }
    public PickleBuilder Op(char op) => Op((byte)op);

    public PickleBuilder Proto(int version) => Op(0x80, (byte)version);
    public PickleBuilder Stop() => Op('.');
    public PickleBuilder Mark() => Op('(');
    public PickleBuilder Tuple() => Op('t');
    public PickleBuilder EmptyDict() => Op('}');
    public PickleBuilder EmptyTuple() => Op(')');
    public PickleBuilder SetItem() => Op('s');
    public PickleBuilder SetItems() => Op('u');
    public PickleBuilder Reduce() => Op('R');
    public PickleBuilder BinPut(byte index) => Op((byte)'q', index);
    public PickleBuilder BinGet(byte index) => Op((byte)'h', index);
    public PickleBuilder False() => Op(0x89);

    /// <summary>BINUNICODE (4-byte length).</summary>
    public PickleBuilder Str(string s)
    {
        var utf8 = Encoding.UTF8.GetBytes(s);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, utf8.Length);
        Op((byte)'X');
        _bytes.Write(length);
        _bytes.Write(utf8);
        return this;
    }

    /// <summary>SHORT_BINUNICODE (protocol 4).</summary>
    public PickleBuilder ShortStr(string s)
    {
        var utf8 = Encoding.UTF8.GetBytes(s);
        return Op(0x8c, (byte)utf8.Length).Op(utf8);
    }

    /// <summary>BININT1, BININT2, BININT or LONG1, as Python's pickler chooses.</summary>
    public PickleBuilder Int(long value)
    {
        if (value is >= 0 and < 256) return Op((byte)'K', (byte)value);
        if (value is >= 0 and < 65536) return Op((byte)'M', (byte)value, (byte)(value >> 8));
        if (value is >= int.MinValue and <= int.MaxValue)
        {
            var b = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(b, (int)value);
            return Op((byte)'J').Op(b);
        }
        var l = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(l, value);
        return Op(0x8a, 8).Op(l);
    }

    public PickleBuilder Global(string module, string name) => Op((byte)'c').Op(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));

    /// <summary>_rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()) as torch.save writes it.</summary>
    public PickleBuilder Tensor(string storageType, string key, long numel, long offset, long[] size, long[] stride)
    {
        Global("torch._utils", "_rebuild_tensor_v2").Mark();
        Mark().Str("storage").Global("torch", storageType).Str(key).Str("cpu").Int(numel).Tuple().Op('Q');
        Int(offset);
        Mark(); foreach (var d in size) Int(d); Tuple();
        Mark(); foreach (var d in stride) Int(d); Tuple();
        False().Global("collections", "OrderedDict").EmptyTuple().Reduce();
        return Tuple().Reduce();
    }

    /// <summary>protocol 2, {name: tensor} with one float storage per tensor ("0", "1", ...), contiguous.</summary>
    public static byte[] StateDict(params (string Name, long[] Size)[] tensors)
    {
        var p = new PickleBuilder().Proto(2).Global("collections", "OrderedDict").EmptyTuple().Reduce().Mark();
        for (int i = 0; i < tensors.Length; i++)
        {
            var (name, size) = tensors[i];
            long numel = size.Aggregate(1L, (a, b) => a * b);
            var stride = new long[size.Length];
            long s = 1;
            for (int d = size.Length - 1; d >= 0; d--) { stride[d] = s; s *= size[d]; }
            p.Str(name).Tensor("FloatStorage", i.ToString(), numel, 0, size, stride);
        }
        return p.SetItems().Stop().ToArray();
    }

    public byte[] ToArray() => _bytes.ToArray();
}

/// <summary>Writes the zip container of torch.save around a pickle and storage records.</summary>
internal static class CheckpointZip
{
    public static void Write(string path, byte[] pickle, IReadOnlyDictionary<string, byte[]> storages, string prefix = "archive", string? byteorder = "little", Action<ZipArchive>? extra = null)
    {
        using var file = File.Create(path);
        using var zip = new ZipArchive(file, ZipArchiveMode.Create);
        void Add(string name, byte[] bytes)
        {
            var entry = zip.CreateEntry($"{prefix}/{name}", CompressionLevel.NoCompression);
            using var s = entry.Open();
            s.Write(bytes);
        }
        Add("data.pkl", pickle);
        if (byteorder is not null) Add("byteorder", Encoding.ASCII.GetBytes(byteorder));
        foreach (var (key, bytes) in storages) Add($"data/{key}", bytes);
        Add("version", "3\n"u8.ToArray());
        extra?.Invoke(zip);
    }

    public static byte[] Floats(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        return bytes;
    }
}
