using System.Buffers.Binary;
using static TorchSharp.torch;

namespace EMANet.Runtime.IO;

/// <summary>
/// Reads safetensors files (https://github.com/huggingface/safetensors: u64 little-endian header
/// length, JSON header, little-endian tensor data) into CPU tensors, in header order. Every length
/// is checked against the file before anything is allocated, so no allocation exceeds the file's size.
/// </summary>
public static class SafetensorsReader
{
    public static TensorDictionary Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Read(stream, path);
    }

    /// <summary>Reads from a seekable stream positioned at the file's start; <paramref name="file"/> names it in errors.</summary>
    public static TensorDictionary Read(Stream stream, string file)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek) throw new ArgumentException("the stream must be seekable", nameof(stream));
        long length = stream.Length - stream.Position;
        if (length < 8) throw new WeightsFormatException(file, $"the file has {length} bytes, fewer than the 8-byte header length");

        Span<byte> prefix = stackalloc byte[8];
        ReadExactly(stream, prefix, file, "the header length");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > (ulong)(length - 8))
            throw new WeightsFormatException(file, $"the header length {headerLength} runs past the end of the file ({length} bytes)");
        if (headerLength > SafetensorsHeader.MaxHeaderBytes)
            throw new WeightsFormatException(file, $"the header length {headerLength} exceeds the {SafetensorsHeader.MaxHeaderBytes}-byte limit");

        var json = new byte[headerLength];
        ReadExactly(stream, json, file, "the header");
        long dataLength = length - 8 - (long)headerLength;
        var (entries, metadata) = SafetensorsHeader.Parse(json, dataLength, file);

        // The entries tile the data section, so reading them in offset order is one forward pass.
        var tensors = new Tensor?[entries.Count];
        try
        {
            foreach (var (entry, index) in entries.Select((e, i) => (e, i)).OrderBy(p => p.e.Begin).ThenBy(p => p.e.End))
                tensors[index] = ReadTensor(stream, entry, file);

            var result = new TensorDictionary { Metadata = metadata };
            for (int i = 0; i < entries.Count; i++) result.Add(entries[i].Name, tensors[i]!);
            return result;
        }
        catch
        {
            foreach (var t in tensors) t?.Dispose();
            throw;
        }
    }

    private static Tensor ReadTensor(Stream stream, SafetensorsEntry entry, string file)
    {
        if (entry.ByteLength > Array.MaxLength)
            throw new WeightsFormatException(file, $"tensor '{entry.Name}' has {entry.ByteLength} bytes; tensors over {Array.MaxLength} bytes are not supported");
        var data = new byte[entry.ByteLength];
        ReadExactly(stream, data, file, $"tensor '{entry.Name}'");
        return TensorBytes.ToTensor(data, entry.Type, entry.Shape, littleEndian: true, out var bad)
            ?? throw new WeightsFormatException(file, $"tensor '{entry.Name}': BOOL element {bad} is byte 0x{data[bad]:X2}, not 0 or 1");
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string file, string what)
    {
        try
        {
            stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException e)
        {
            throw new WeightsFormatException(file, $"the file ends inside {what}", e);
        }
    }
}
