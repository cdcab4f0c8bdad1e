using System.Buffers.Binary;
using System.Text;
using EMANet.Runtime.IO;
using static EMANet.Tests.IO.IoTestSupport;
using static TorchSharp.torch;

namespace EMANet.Tests.IO;

public sealed class NpyTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static string Case(string name) => Fixture(Path.Combine("npy", name + ".npy"));

    [Fact]
    public void Read_NumpyWrittenArrays_HaveTheirClosedFormValues()
    {
        using (var t = NpyFile.Read(Case("f4_c")))
        {
            Assert.Equal(new long[] { 2, 3, 4 }, t.shape);
            Assert.Equal(ScalarType.Float32, t.dtype);
            Assert.Equal(Enumerable.Range(0, 24).Select(i => 0.5f * i - 3), t.data<float>().ToArray());
        }
        using (var t = NpyFile.Read(Case("f8_fortran")))
        {
            Assert.Equal(new long[] { 3, 4 }, t.shape);
            Assert.Equal(Enumerable.Range(0, 12).Select(i => (double)i), t.data<double>().ToArray());
        }
        using (var t = NpyFile.Read(Case("f4_big_endian")))
            Assert.Equal(new float[] { 0, 1, 2, 3, 4, 5 }, t.data<float>().ToArray());
        using (var t = NpyFile.Read(Case("i8_v2")))
            Assert.Equal(Enumerable.Range(-5, 10).Select(i => (long)i), t.data<long>().ToArray());
        using (var t = NpyFile.Read(Case("i8_1d")))
            Assert.Equal(new long[] { 0, 1L << 40, 2L << 40 }, t.data<long>().ToArray());
        using (var t = NpyFile.Read(Case("u1")))
            Assert.Equal(Enumerable.Range(0, 256).Select(i => (byte)i), t.data<byte>().ToArray());
        using (var t = NpyFile.Read(Case("b1")))
            Assert.Equal(new[] { true, false, true, true, false }, t.data<bool>().ToArray());
        using (var t = NpyFile.Read(Case("i4_scalar")))
        {
            Assert.Empty(t.shape);
            Assert.Equal(-7, t.item<int>());
        }
        using (var t = NpyFile.Read(Case("f2")))
        {
            Assert.Equal(ScalarType.Float16, t.dtype);
            using var f = t.to(ScalarType.Float32);
            Assert.Equal(new[] { 0f, 0.25f, 0.5f, 0.75f, 1f }, f.data<float>().ToArray());
        }
    }

    [Theory]
    [InlineData("f4_c")]
    [InlineData("i8_1d")]
    [InlineData("u1")]
    [InlineData("b1")]
    [InlineData("i4_scalar")]
    [InlineData("f2")]
    public void Write_IsByteIdenticalToNumpySave(string name)
    {
        using var t = NpyFile.Read(Case(name));
        var path = _temp.File(name + ".npy");
        NpyFile.Write(path, t);
        Assert.Equal(File.ReadAllBytes(Case(name)), File.ReadAllBytes(path));
    }

    [Fact]
    public void Write_FortranAndBigEndianInputs_ComeBackInCOrderLittleEndian()
    {
        using var fortran = NpyFile.Read(Case("f8_fortran"));
        var path = _temp.File("c.npy");
        NpyFile.Write(path, fortran);
        var bytes = File.ReadAllBytes(path);
        int dataStart = bytes.Length - 12 * 8;
        Assert.Equal(0, dataStart % 64);
        Assert.StartsWith("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }", Encoding.ASCII.GetString(bytes, 10, dataStart - 10));
        Assert.Equal(3.0, BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(dataStart + 3 * 8)));  // element [0, 3]
        Assert.Equal(4.0, BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(dataStart + 4 * 8)));  // element [1, 0]
        using var back = NpyFile.Read(path);
        AssertBitwiseEqual(fortran, back, "f8_fortran");
    }

    [Fact]
    public void Read_FixtureInputs_HaveTheDeclaredShapes()
    {
        using var a = NpyFile.Read(Fixture("ema_head_input.npy"));
        Assert.Equal(new long[] { 1, 64, 9, 11 }, a.shape);
        using var b = NpyFile.Read(Fixture("emanet_small_output.npy"));
        Assert.Equal(new long[] { 1, 5, 65, 65 }, b.shape);
        using var c = NpyFile.Read(Fixture("torchvision_resnet18_output.npy"));
        Assert.Equal(new long[] { 1, 64, 2, 2 }, c.shape);
    }

    private static byte[] NpyBytes(string dict, byte[] data, int major = 1)
    {
        var header = Encoding.ASCII.GetBytes(dict + "\n");
        int prefix = major == 1 ? 10 : 12;
        var bytes = new byte[prefix + header.Length + data.Length];
        new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y' }.CopyTo(bytes, 0);
        bytes[6] = (byte)major;
        if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        else BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)header.Length);
        header.CopyTo(bytes, prefix);
        data.CopyTo(bytes, prefix + header.Length);
        return bytes;
    }

    public static TheoryData<string, string, int, string> Defects => new()
    {
        { "short data", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 20, "needs 24 bytes but the file holds 20" },
        { "extra data", "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 12, "needs 8 bytes but the file holds 12" },
        { "structured", "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", 8, "malformed header" },
        { "complex", "{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", 16, "unsupported descr '<c8'" },
        { "no shape", "{'descr': '<f4', 'fortran_order': False, }", 4, "no integer tuple 'shape'" },
        { "code", "{'descr': '<f4', 'fortran_order': __import__('os'), 'shape': (1,), }", 4, "malformed header" },
        { "huge", "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4), }", 8, "more than 2^63" },
        { "leading zero", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 03), }", 24, "leading zero" },
        { "bool", "{'descr': '|b1', 'fortran_order': False, 'shape': (1,), }", -3, "bool element 0 is byte 0x03" },
    };

    [Theory]
    [MemberData(nameof(Defects))]
    public void Read_Defect_NamesFileAndDefect(string what, string dict, int dataLength, string fragment)
    {
        var path = _temp.File(what.Replace(' ', '_') + ".npy");
        File.WriteAllBytes(path, NpyBytes(dict, dataLength == -3 ? new byte[] { 3 } : new byte[dataLength]));
        AssertDefect(path, () => NpyFile.Read(path).Dispose(), fragment);
    }

    [Fact]
    public void Read_Version2HeaderAndBadMagic()
    {
        var v2 = _temp.File("v2.npy");
        File.WriteAllBytes(v2, NpyBytes("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", new byte[] { 5, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF }, major: 2));
        using (var t = NpyFile.Read(v2)) Assert.Equal(new[] { 5, -1 }, t.data<int>().ToArray());

        var bad = _temp.File("bad.npy");
        File.WriteAllBytes(bad, Encoding.ASCII.GetBytes("NUMPY but not really"));
        AssertDefect(bad, () => NpyFile.Read(bad).Dispose(), "no .npy magic");
    }
}
