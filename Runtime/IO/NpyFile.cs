using System.Buffers.Binary;
using System.Text;
using static TorchSharp.torch;

namespace EMANet.Runtime.IO;

/// <summary>
/// NumPy .npy arrays (format versions 1.0, 2.0 and 3.0) to and from CPU tensors. Reads float16/32/64,
/// int8/16/32/64, uint8 and bool in either byte order and in C or Fortran order; writes C order,
/// little-endian, version 1.0 (2.0 when the header needs more than 65535 bytes).
/// </summary>
public static class NpyFile
{
    internal static ReadOnlySpan<byte> Magic => new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y' };

    public static Tensor Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Read(stream, path);
    }

    /// <summary>Reads from a seekable stream positioned at the array's start; <paramref name="file"/> names it in errors.</summary>
    public static Tensor Read(Stream stream, string file)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek) throw new ArgumentException("the stream must be seekable", nameof(stream));
        long length = stream.Length - stream.Position;
        WeightsFormatException Defect(string what) => new(file, what);

        if (length < 10) throw Defect($"the file has {length} bytes, too few for a .npy preamble");
        Span<byte> preamble = stackalloc byte[8];
        stream.ReadExactly(preamble);
        if (!preamble[..6].SequenceEqual(Magic)) throw Defect("no .npy magic (\\x93NUMPY) at the start");
        byte major = preamble[6], minor = preamble[7];
        if (major is not (1 or 2 or 3)) throw Defect($"unsupported .npy format version {major}.{minor}");

        int lengthBytes = major == 1 ? 2 : 4;
        Span<byte> lengthField = stackalloc byte[4];
        if (length < 8 + lengthBytes) throw Defect("the file ends inside the header length");
        stream.ReadExactly(lengthField[..lengthBytes]);
        long headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(lengthField) : BinaryPrimitives.ReadUInt32LittleEndian(lengthField);
        long dataLength = length - 8 - lengthBytes - headerLength;
        if (dataLength < 0) throw Defect($"the header length {headerLength} runs past the end of the file ({length} bytes)");

        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        string text;
        try
        {
            text = (major == 3 ? new UTF8Encoding(false, true) : Encoding.Latin1).GetString(headerBytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new WeightsFormatException(file, "the header is not valid UTF-8", e);
        }
        if (!text.EndsWith('\n')) throw Defect("the header does not end with a newline");
        if (text.Any(c => c > 0x7f && major != 3)) throw Defect("the header holds non-ASCII characters");

        var header = NpyHeader.TryParse(text, out var reason) ?? throw Defect($"malformed header: {reason}");
        var elements = TensorBytes.ElementCount(header.Shape);
        var bytes = elements is { } n ? TensorBytes.ByteCount(n, header.Type) : null;
        if (bytes != dataLength)
            throw Defect($"the array {header.Type} {SafetensorsHeader.Show(header.Shape)} needs {(bytes is { } b ? b.ToString() : "more than 2^63")} bytes but the file holds {dataLength} after the header");
        if (dataLength > Array.MaxLength) throw Defect($"arrays over {Array.MaxLength} bytes are not supported");

        var data = new byte[dataLength];
        stream.ReadExactly(data);
        var stored = header.FortranOrder ? header.Shape.Reverse().ToArray() : header.Shape;
        var tensor = TensorBytes.ToTensor(data, header.Type, stored, header.LittleEndian, out var bad)
            ?? throw Defect($"bool element {bad} is byte 0x{data[bad]:X2}, not 0 or 1");
        if (!header.FortranOrder || header.Shape.Length < 2) return tensor;

        using (tensor)
        {
            var order = Enumerable.Range(0, header.Shape.Length).Reverse().Select(i => (long)i).ToArray();
            using var transposed = tensor.permute(order);
            return transposed.contiguous();
        }
    }

    /// <summary>Writes <paramref name="path"/> atomically (see <see cref="AtomicFile"/>).</summary>
    public static void Write(string path, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(path);
        CheckWritable(tensor);
        AtomicFile.Write(path, s => Write(s, tensor));
    }

    public static void Write(Stream stream, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(stream);
        CheckWritable(tensor);
        var dict = new NpyHeader(tensor.dtype, true, false, tensor.shape).Format();
        // Pad so that the data starts on a 64-byte boundary, as numpy does; the header ends with '\n'.
        int unpadded = 10 + dict.Length + 1;
        int major = 1, prefix = 10;
        if (unpadded + 63 > ushort.MaxValue + 10) { major = 2; prefix = 12; unpadded += 2; }
        int padding = (64 - unpadded % 64) % 64;
        var text = Encoding.ASCII.GetBytes(dict + new string(' ', padding) + "\n");

        Span<byte> preamble = stackalloc byte[12];
        Magic.CopyTo(preamble);
        preamble[6] = (byte)major;
        preamble[7] = 0;
        if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(preamble[8..], (ushort)text.Length);
        else BinaryPrimitives.WriteUInt32LittleEndian(preamble[8..], (uint)text.Length);
        stream.Write(preamble[..prefix]);
        stream.Write(text);
        stream.Write(TensorBytes.ToLittleEndian(tensor));
    }

    private static void CheckWritable(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (!ElementTypes.IsSupported(tensor.dtype) || ElementTypes.NumpyCode(tensor.dtype) is null)
            throw new ArgumentException($"numpy has no element type for {tensor.dtype}", nameof(tensor));
    }
}
