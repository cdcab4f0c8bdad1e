using TorchSharp;
using static TorchSharp.torch;

namespace EMANet.Runtime.IO;

/// <summary>Raw element bytes to and from CPU tensors, with byte-order handling and bool validation.</summary>
internal static class TensorBytes
{
    /// <summary>The number of elements of <paramref name="shape"/>, or null when a dimension is negative or the product overflows.</summary>
    public static long? ElementCount(IReadOnlyList<long> shape)
    {
        long count = 1;
        foreach (var d in shape)
        {
            if (d < 0) return null;
            try { count = checked(count * d); }
            catch (OverflowException) { return null; }
        }
        return count;
    }

    /// <summary>elements * bytes per element, or null on overflow.</summary>
    public static long? ByteCount(long elements, ScalarType type)
    {
        try { return checked(elements * ElementTypes.SizeOf(type)); }
        catch (OverflowException) { return null; }
    }

    /// <summary>
    /// A new CPU tensor of <paramref name="type"/> and <paramref name="shape"/> holding <paramref name="data"/>
    /// (whose length the caller has checked). <paramref name="littleEndian"/> is the byte order of
    /// <paramref name="data"/>; it is swapped in place when the host differs. Returns null (and creates
    /// nothing) when a bool element is neither 0 nor 1; <paramref name="badBool"/> then holds its index.
    /// </summary>
    public static Tensor? ToTensor(byte[] data, ScalarType type, long[] shape, bool littleEndian, out long badBool)
    {
        badBool = -1;
        if (type == ScalarType.Bool)
        {
            int bad = data.AsSpan().IndexOfAnyExcept((byte)0, (byte)1);
            if (bad >= 0) { badBool = bad; return null; }
        }
        if (littleEndian != BitConverter.IsLittleEndian) SwapInPlace(data, ElementTypes.SizeOf(type));
        var tensor = empty(shape, type);
        if (data.Length > 0) tensor.bytes = data;
        return tensor;
    }

    /// <summary>The tensor's elements in C order, little-endian, as they go into a file.</summary>
    public static byte[] ToLittleEndian(Tensor tensor)
    {
        if (!ElementTypes.IsSupported(tensor.dtype))
            throw new NotSupportedException($"element type {tensor.dtype} cannot be written");
        using var scope = NewDisposeScope();
        var cpu = tensor.detach().cpu().contiguous();
        var data = cpu.numel() == 0 ? Array.Empty<byte>() : cpu.bytes.ToArray();
        if (!BitConverter.IsLittleEndian) SwapInPlace(data, ElementTypes.SizeOf(tensor.dtype));
        return data;
    }

    /// <summary>Reverses the bytes of every element of <paramref name="elementSize"/> bytes.</summary>
    public static void SwapInPlace(Span<byte> data, int elementSize)
    {
        if (elementSize == 1) return;
        for (int i = 0; i + elementSize <= data.Length; i += elementSize)
            data.Slice(i, elementSize).Reverse();
    }
}
