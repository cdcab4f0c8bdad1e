using System.IO.Compression;

namespace EMANet.Runtime.IO;

/// <summary>
/// The zip container torch.save writes since PyTorch 1.6: records under one top-level folder
/// (<c>&lt;archive&gt;/data.pkl</c>, <c>&lt;archive&gt;/data/&lt;key&gt;</c>, <c>&lt;archive&gt;/byteorder</c>,
/// <c>&lt;archive&gt;/version</c>). Reads records with their sizes checked before allocation and their
/// CRC-32 verified; every zip defect becomes a <see cref="WeightsFormatException"/>.
/// </summary>
internal sealed class PyTorchArchive : IDisposable
{
    /// <summary>Deflate cannot expand data by more than about 1032:1.</summary>
    private const long MaxExpansion = 1040;

    private readonly ZipArchive _zip;
    private readonly Dictionary<string, ZipArchiveEntry> _entries;
    private readonly string _file;

    private PyTorchArchive(ZipArchive zip, Dictionary<string, ZipArchiveEntry> entries, string prefix, string file, long archiveLength)
    {
        _zip = zip;
        ArchiveLength = archiveLength;
        _entries = entries;
        Prefix = prefix;
        _file = file;
    }

    /// <summary>The top-level folder that holds the records ("archive" for PyTorch 2, the file's stem for 1.6 to 1.13).</summary>
    public string Prefix { get; }

    /// <summary>The size of the zip file in bytes.</summary>
    public long ArchiveLength { get; }

    public static PyTorchArchive Open(Stream stream, string file)
    {
        ZipArchive zip;
        IReadOnlyCollection<ZipArchiveEntry> all;
        try
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (Exception e) when (IsZipDefect(e))
        {
            throw new WeightsFormatException(file, $"not a readable zip archive: {e.Message}", e);
        }
        try
        {
            all = zip.Entries; // reads the central directory
        }
        catch (Exception e) when (IsZipDefect(e))
        {
            zip.Dispose();
            throw new WeightsFormatException(file, $"the zip archive's central directory is corrupt: {e.Message}", e);
        }

        try
        {
            var entries = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
            foreach (var entry in all)
                if (!entries.TryAdd(entry.FullName, entry))
                    throw new WeightsFormatException(file, $"the zip archive holds '{entry.FullName}' twice");

            var pickles = entries.Keys.Where(n => n.EndsWith("/data.pkl", StringComparison.Ordinal) && n.IndexOf('/') == n.Length - "/data.pkl".Length).ToList();
            if (pickles.Count == 0)
                throw new WeightsFormatException(file, "the zip archive has no <archive>/data.pkl record (not a torch.save checkpoint)");
            if (pickles.Count > 1)
                throw new WeightsFormatException(file, $"the zip archive has {pickles.Count} data.pkl records ({string.Join(", ", pickles)})");
            var prefix = pickles[0][..^"/data.pkl".Length];
            if (entries.ContainsKey(prefix + "/constants.pkl") || entries.Keys.Any(n => n.StartsWith(prefix + "/code/", StringComparison.Ordinal)))
                throw new WeightsFormatException(file, "a TorchScript archive (torch.jit.save), not a torch.save checkpoint; save its state_dict() with torch.save instead");
            return new PyTorchArchive(zip, entries, prefix, file, stream.Length);
        }
        catch
        {
            zip.Dispose();
            throw;
        }
    }

    public bool HasRecord(string name) => _entries.ContainsKey($"{Prefix}/{name}");

    /// <summary>
    /// The bytes of record <paramref name="name"/> (relative to the prefix). When <paramref name="expectedLength"/>
    /// is given the record must have exactly that many bytes; that is checked before anything is allocated.
    /// </summary>
    public byte[] ReadRecord(string name, long? expectedLength = null)
    {
        string full = $"{Prefix}/{name}";
        if (!_entries.TryGetValue(full, out var entry))
            throw new WeightsFormatException(_file, $"the zip archive has no record '{full}'");
        long length = entry.Length;
        if (expectedLength is { } expected && length != expected)
            throw new WeightsFormatException(_file, $"record '{full}' has {length} bytes but {expected} are needed");
        if (length < 0 || length > Array.MaxLength || length > entry.CompressedLength * MaxExpansion + 1024)
            throw new WeightsFormatException(_file, $"record '{full}' declares an implausible size of {length} bytes ({entry.CompressedLength} stored)");

        if (entry.CompressedLength > ArchiveLength)
            throw new WeightsFormatException(_file, $"record '{full}' declares {entry.CompressedLength} stored bytes, more than the whole file ({ArchiveLength})");

        byte[] data;
        try
        {
            using var stream = entry.Open();
            data = length <= ArchiveLength ? ReadExactly(stream, length) : ReadGrowing(stream, length);
            if (data.Length < length || stream.ReadByte() >= 0)
                throw new WeightsFormatException(_file, data.Length < length
                    ? $"record '{full}' is truncated ({data.Length} of its declared {length} bytes)"
                    : $"record '{full}' holds more than its declared {length} bytes");
        }
        catch (Exception e) when (IsZipDefect(e))
        {
            throw new WeightsFormatException(_file, $"record '{full}' cannot be read: {e.Message}", e);
        }

        uint crc = Crc32.Compute(data);
        if (crc != entry.Crc32)
            throw new WeightsFormatException(_file, $"record '{full}' is corrupt (CRC-32 {crc:x8}, the archive says {entry.Crc32:x8})");
        return data;
    }

    /// <summary>Up to <paramref name="length"/> bytes into one buffer of that size (which the file's size bounds).</summary>
    private static byte[] ReadExactly(Stream stream, long length)
    {
        var data = new byte[length];
        int read = stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
        return read == data.Length ? data : data[..read];
    }

    /// <summary>
    /// Up to <paramref name="length"/> bytes of a compressed record that claims to be larger than the
    /// file: the buffer grows only as data actually arrives, so a false size allocates nothing.
    /// </summary>
    private static byte[] ReadGrowing(Stream stream, long length)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[1 << 16];
        while (buffer.Length < length)
        {
            int read = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, length - buffer.Length));
            if (read == 0) break;
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    /// <summary>Exceptions through which System.IO.Compression reports a malformed archive.</summary>
    internal static bool IsZipDefect(Exception e) =>
        e is InvalidDataException or NotSupportedException or IOException or ArgumentException or OverflowException;

    public void Dispose() => _zip.Dispose();
}
