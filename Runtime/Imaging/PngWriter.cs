using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace EMANet.Runtime.Imaging;

/// <summary>
/// Writes 8-bit RGB, palette and greyscale PNGs (non-interlaced, zlib via <see cref="ZLibStream"/>,
/// CRC-32 per chunk). RGB rows get the filter with the smallest sum of absolute residuals; palette and
/// greyscale rows are stored unfiltered, as the PNG specification advises for indexed data.
/// </summary>
public static class PngWriter
{
    public static void WriteRgb(string path, RgbImage image) => Save(path, EncodeRgb(image));

    /// <summary>A palette PNG whose indices are the mask's labels (the VOC palette unless one is given).</summary>
    public static void WriteIndexed(string path, LabelMask mask, IReadOnlyList<Rgb>? palette = null) =>
        Save(path, EncodeIndexed(mask, palette));

    /// <summary>An 8-bit greyscale PNG whose grey values are the mask's labels (the SegmentationClassAug layout).</summary>
    public static void WriteGrey(string path, LabelMask mask) => Save(path, EncodeGrey(mask));

    public static byte[] EncodeRgb(RgbImage image) =>
        Encode(image.Width, image.Height, PngColorType.Rgb, image.Pixels, palette: null, adaptiveFilters: true);

    public static byte[] EncodeIndexed(LabelMask mask, IReadOnlyList<Rgb>? palette = null)
    {
        palette ??= VocPalette.Colors;
        if (palette.Count is 0 or > 256)
            throw new ArgumentException($"a PNG palette holds 1 to 256 colours, got {palette.Count}", nameof(palette));
        return Encode(mask.Width, mask.Height, PngColorType.Palette, mask.Labels, palette, adaptiveFilters: false);
    }

    public static byte[] EncodeGrey(LabelMask mask) =>
        Encode(mask.Width, mask.Height, PngColorType.Greyscale, mask.Labels, palette: null, adaptiveFilters: false);

    private static void Save(string path, byte[] png)
    {
        try
        {
            var directory = Path.GetDirectoryName(Path.GetFullPath(path));
            if (!string.IsNullOrEmpty(directory))
                Directory.CreateDirectory(directory);
            File.WriteAllBytes(path, png);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageFileException(path, $"cannot write the PNG ({e.Message})", e);
        }
    }

    private static byte[] Encode(int width, int height, PngColorType colorType, byte[] samples, IReadOnlyList<Rgb>? palette, bool adaptiveFilters)
    {
        var bpp = PngRaster.ChannelsOf(colorType);
        var rowBytes = width * bpp;
        using var output = new MemoryStream();
        output.Write(PngDecoder.Signature);

        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(header[4..], (uint)height);
        header[8] = 8;
        header[9] = (byte)colorType;
        header[10] = header[11] = header[12] = 0;
        WriteChunk(output, "IHDR", header);

        if (palette is not null)
        {
            var plte = new byte[palette.Count * 3];
            for (var i = 0; i < palette.Count; i++)
            {
                plte[3 * i] = palette[i].R;
                plte[3 * i + 1] = palette[i].G;
                plte[3 * i + 2] = palette[i].B;
            }
            WriteChunk(output, "PLTE", plte);
        }

        using (var compressed = new MemoryStream())
        {
            using (var deflater = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
            {
                var filtered = new byte[rowBytes + 1];
                var zeros = new byte[rowBytes];
                var scratch = new byte[rowBytes];
                for (var y = 0; y < height; y++)
                {
                    var row = samples.AsSpan(y * rowBytes, rowBytes);
                    ReadOnlySpan<byte> above = y == 0 ? zeros : samples.AsSpan((y - 1) * rowBytes, rowBytes);
                    if (adaptiveFilters)
                        FilterBest(row, above, bpp, filtered, scratch);
                    else
                    {
                        filtered[0] = 0;
                        row.CopyTo(filtered.AsSpan(1));
                    }
                    deflater.Write(filtered);
                }
            }
            WriteChunk(output, "IDAT", compressed.GetBuffer().AsSpan(0, (int)compressed.Length));
        }

        WriteChunk(output, "IEND", ReadOnlySpan<byte>.Empty);
        return output.ToArray();
    }

    /// <summary>Writes the filter type and residuals of the filter with the smallest sum of |residual| (signed).</summary>
    private static void FilterBest(ReadOnlySpan<byte> row, ReadOnlySpan<byte> above, int bpp, Span<byte> destination, Span<byte> buffer)
    {
        var best = long.MaxValue;
        for (byte filter = 0; filter <= 4; filter++)
        {
            long cost = 0;
            for (var i = 0; i < row.Length; i++)
            {
                int left = i >= bpp ? row[i - bpp] : 0;
                int upperLeft = i >= bpp ? above[i - bpp] : 0;
                var predictor = filter switch
                {
                    0 => 0,
                    1 => left,
                    2 => above[i],
                    3 => (left + above[i]) >> 1,
                    _ => PngDecoder.Paeth(left, above[i], upperLeft),
                };
                buffer[i] = (byte)(row[i] - predictor);
                cost += Math.Abs((int)(sbyte)buffer[i]);
            }
            if (cost < best)
            {
                best = cost;
                destination[0] = filter;
                buffer.CopyTo(destination[1..]);
            }
        }
    }

    private static void WriteChunk(Stream output, string type, ReadOnlySpan<byte> body)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(word, (uint)body.Length);
        output.Write(word);
        Span<byte> typeBytes = stackalloc byte[4];
        Encoding.ASCII.GetBytes(type, typeBytes);
        output.Write(typeBytes);
        output.Write(body);
        var crc = Crc32.Append(Crc32.Compute(typeBytes), body);
        BinaryPrimitives.WriteUInt32BigEndian(word, crc);
        output.Write(word);
    }
}
