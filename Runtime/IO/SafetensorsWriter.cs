using static TorchSharp.torch;

namespace EMANet.Runtime.IO;

/// <summary>
/// Writes safetensors files: tensors in the given order, back to back, little-endian, C order
/// (non-contiguous and non-CPU tensors are copied first); the header is space-padded to 8 bytes.
/// </summary>
public static class SafetensorsWriter
{
    /// <summary>Writes <paramref name="path"/> atomically (see <see cref="AtomicFile"/>).</summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var list = Validate(tensors);
        AtomicFile.Write(path, stream => WriteValidated(stream, list, metadata));
    }

    public static void Write(Stream stream, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        WriteValidated(stream, Validate(tensors), metadata);
    }

    private static List<KeyValuePair<string, Tensor>> Validate(IEnumerable<KeyValuePair<string, Tensor>> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToList();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in list)
        {
            if (string.IsNullOrEmpty(name)) throw new ArgumentException("a tensor has an empty name", nameof(tensors));
            if (name == SafetensorsHeader.MetadataKey) throw new ArgumentException($"'{name}' is reserved for metadata", nameof(tensors));
            if (!names.Add(name)) throw new ArgumentException($"the name '{name}' appears twice", nameof(tensors));
            ArgumentNullException.ThrowIfNull(tensor, name);
            if (!ElementTypes.IsSupported(tensor.dtype))
                throw new ArgumentException($"tensor '{name}' has element type {tensor.dtype}, which safetensors here does not support", nameof(tensors));
        }
        return list;
    }

    private static void WriteValidated(Stream stream, List<KeyValuePair<string, Tensor>> list, IReadOnlyDictionary<string, string>? metadata)
    {
        var entries = new List<SafetensorsEntry>(list.Count);
        long offset = 0;
        foreach (var (name, tensor) in list)
        {
            long bytes = tensor.numel() * ElementTypes.SizeOf(tensor.dtype);
            entries.Add(new SafetensorsEntry(name, tensor.dtype, tensor.shape, offset, offset + bytes));
            offset += bytes;
        }
        var header = SafetensorsHeader.Format(entries, metadata);
        Span<byte> prefix = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
        stream.Write(prefix);
        stream.Write(header);
        foreach (var (_, tensor) in list) stream.Write(TensorBytes.ToLittleEndian(tensor));
    }
}
