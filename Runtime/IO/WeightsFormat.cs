using System.Buffers.Binary;

namespace EMANet.Runtime.IO;

/// <summary>What a file holds, judged by its first bytes (never by its name).</summary>
public enum WeightsFormat
{
    /// <summary>None of the below (for instance TorchSharp's own module.save format).</summary>
    Unknown,

    /// <summary>u64 little-endian header length that fits the file, then '{'.</summary>
    Safetensors,

    /// <summary>A zip archive ("PK\x03\x04"): torch.save since PyTorch 1.6 (.pth, .pt).</summary>
    PyTorchZip,

    /// <summary>A bare pickle (0x80, protocol): torch.save before PyTorch 1.6 or with _use_new_zipfile_serialization=False.</summary>
    PyTorchLegacy,

    /// <summary>A NumPy array ("\x93NUMPY").</summary>
    Npy,
}

/// <summary>Content sniffing for <see cref="WeightsFile"/>.</summary>
public static class WeightsFormatDetector
{
    public static WeightsFormat Detect(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64);
        Span<byte> head = stackalloc byte[9];
        int read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return Detect(head[..read], stream.Length);
    }

    /// <summary>Judges by up to the first 9 bytes of a file of <paramref name="fileLength"/> bytes.</summary>
    public static WeightsFormat Detect(ReadOnlySpan<byte> head, long fileLength)
    {
        if (head.StartsWith("PK\x03\x04"u8) || head.StartsWith("PK\x05\x06"u8)) return WeightsFormat.PyTorchZip;
        if (head.StartsWith(NpyFile.Magic)) return WeightsFormat.Npy;
        if (head.Length >= 9 && head[8] == (byte)'{')
        {
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(head);
            if (headerLength >= 2 && headerLength <= (ulong)(fileLength - 8)) return WeightsFormat.Safetensors;
        }
        if (head.Length >= 2 && head[0] == 0x80 && head[1] is >= 2 and <= 5) return WeightsFormat.PyTorchLegacy;
        return WeightsFormat.Unknown;
    }
}
