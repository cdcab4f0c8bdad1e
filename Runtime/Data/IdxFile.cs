using System.Buffers.Binary;
using System.IO.Compression;

namespace EMANet.Runtime.Data;

/// <summary>
/// Reads the unsigned-byte arrays of the IDX format (MNIST, Fashion-MNIST): a magic number 0x0000 08 D
/// (D = number of dimensions), D big-endian 32-bit sizes, then the bytes. Gzip-compressed files are
/// recognised by their signature.
/// </summary>
public static class IdxFile
{
    public static IdxArray Read(string path)
    {
        try
        {
            using var file = File.OpenRead(path);
            var gzip = file.ReadByte() == 0x1F && file.ReadByte() == 0x8B;
            file.Position = 0;
            using Stream stream = gzip ? new GZipStream(file, CompressionMode.Decompress) : file;
            return Read(stream, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            throw new DatasetException($"{path}: cannot read the IDX file ({e.Message})", e);
        }
    }

    private static IdxArray Read(Stream stream, string path)
    {
        Span<byte> word = stackalloc byte[4];
        ReadExactly(stream, word, path, "magic number");
        if (word[0] != 0 || word[1] != 0 || word[2] != 0x08 || word[3] is 0 or > 4)
            throw new DatasetException($"{path}: not an unsigned-byte IDX file (magic {word[0]:X2}{word[1]:X2}{word[2]:X2}{word[3]:X2}, expected 000008 followed by 1 to 4 dimensions)");
        var shape = new int[word[3]];
        long total = 1;
        for (var d = 0; d < shape.Length; d++)
        {
            ReadExactly(stream, word, path, $"size of dimension {d}");
            var size = BinaryPrimitives.ReadInt32BigEndian(word);
            if (size <= 0)
                throw new DatasetException($"{path}: dimension {d} has size {size}");
            shape[d] = size;
            total *= size;
        }
        if (total > int.MaxValue)
            throw new DatasetException($"{path}: {total} bytes of data are too many");
        var data = new byte[total];
        ReadExactly(stream, data, path, "data");
        return new IdxArray(shape, data);
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string path, string what)
    {
        var got = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        if (got < buffer.Length)
            throw new DatasetException($"{path}: file ends early while reading the {what} ({got} of {buffer.Length} bytes)");
    }
}
