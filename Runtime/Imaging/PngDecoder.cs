using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace EMANet.Runtime.Imaging;

/// <summary>
/// A small PNG decoder that keeps the samples as stored (palette indices stay indices). It checks the
/// signature and every chunk's CRC, reads IHDR, PLTE and IDAT, inflates with <see cref="ZLibStream"/> and
/// undoes the five scanline filters. Adam7-interlaced files are rejected.
/// </summary>
public static class PngDecoder
{
    internal static ReadOnlySpan<byte> Signature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public static PngRaster Read(string path) => Decode(ImageFileBytes.Read(path), path);

    /// <param name="source">Named in every error message (a path or a description).</param>
    public static PngRaster Decode(ReadOnlySpan<byte> data, string source)
    {
        if (data.Length < Signature.Length || !data[..Signature.Length].SequenceEqual(Signature))
            throw new ImageFileException(source, "not a PNG file (the 8-byte PNG signature is missing)");

        var position = Signature.Length;
        var header = default(Header);
        var haveHeader = false;
        Rgb[]? palette = null;
        using var compressed = new MemoryStream();
        var sawEnd = false;

        while (!sawEnd)
        {
            if (position + 8 > data.Length)
                throw new ImageFileException(source, "truncated PNG: the file ends before the IEND chunk");
            var length = BinaryPrimitives.ReadUInt32BigEndian(data[position..]);
            var typeBytes = data.Slice(position + 4, 4);
            var type = Encoding.ASCII.GetString(typeBytes);
            if (length > int.MaxValue || position + 12 + (long)length > data.Length)
                throw new ImageFileException(source, $"truncated PNG: chunk '{type}' at byte {position} claims {length} bytes");
            var body = data.Slice(position + 8, (int)length);
            var storedCrc = BinaryPrimitives.ReadUInt32BigEndian(data[(position + 8 + (int)length)..]);
            var actualCrc = Crc32.Compute(data.Slice(position + 4, 4 + (int)length));
            if (storedCrc != actualCrc)
                throw new ImageFileException(source, $"corrupt PNG: CRC mismatch in chunk '{type}' at byte {position} (stored {storedCrc:X8}, computed {actualCrc:X8})");
            position += 12 + (int)length;

            if (!haveHeader && type != "IHDR")
                throw new ImageFileException(source, $"invalid PNG: first chunk is '{type}', expected IHDR");
            switch (type)
            {
                case "IHDR":
                    if (haveHeader)
                        throw new ImageFileException(source, "invalid PNG: more than one IHDR chunk");
                    header = ParseHeader(body, source);
                    haveHeader = true;
                    break;
                case "PLTE":
                    if (body.Length == 0 || body.Length % 3 != 0 || body.Length / 3 > 256)
                        throw new ImageFileException(source, $"invalid PNG: PLTE chunk of {body.Length} bytes (must be 3 to 768, a multiple of 3)");
                    palette = new Rgb[body.Length / 3];
                    for (var i = 0; i < palette.Length; i++)
                        palette[i] = new Rgb(body[3 * i], body[3 * i + 1], body[3 * i + 2]);
                    break;
                case "IDAT":
                    compressed.Write(body);
                    break;
                case "IEND":
                    sawEnd = true;
                    break;
                default:
                    if (char.IsUpper(type[0]))
                        throw new ImageFileException(source, $"unsupported PNG: unknown critical chunk '{type}'");
                    break; // ancillary chunks (tRNS, gAMA, tEXt, ...) carry nothing a mask needs
            }
        }

        if (header.ColorType == PngColorType.Palette && palette is null)
            throw new ImageFileException(source, "invalid PNG: palette image without a PLTE chunk");
        if (compressed.Length == 0)
            throw new ImageFileException(source, "invalid PNG: no IDAT chunk");

        var rowBytes = PngRaster.RowBytesOf(header.Width, header.ColorType, header.BitDepth);
        var filtered = new byte[checked((long)header.Height * (rowBytes + 1))];
        compressed.Position = 0;
        try
        {
            using var inflater = new ZLibStream(compressed, CompressionMode.Decompress);
            var got = inflater.ReadAtLeast(filtered, filtered.Length, throwOnEndOfStream: false);
            if (got < filtered.Length)
                throw new ImageFileException(source, $"truncated PNG: image data holds {got} bytes, {header.Width}x{header.Height} needs {filtered.Length}");
        }
        catch (InvalidDataException e)
        {
            throw new ImageFileException(source, $"corrupt PNG: the compressed image data is damaged ({e.Message})", e);
        }

        var scanlines = Unfilter(filtered, header, rowBytes, source);
        return new PngRaster(header.Width, header.Height, header.BitDepth, header.ColorType, scanlines, palette);
    }

    private readonly record struct Header(int Width, int Height, int BitDepth, PngColorType ColorType);

    private static Header ParseHeader(ReadOnlySpan<byte> body, string source)
    {
        if (body.Length != 13)
            throw new ImageFileException(source, $"invalid PNG: IHDR has {body.Length} bytes, expected 13");
        var width = BinaryPrimitives.ReadUInt32BigEndian(body);
        var height = BinaryPrimitives.ReadUInt32BigEndian(body[4..]);
        int bitDepth = body[8];
        var colorType = (PngColorType)body[9];
        if (width == 0 || height == 0 || width > 1 << 24 || height > 1 << 24)
            throw new ImageFileException(source, $"invalid PNG: image size {width}x{height}");
        var allowed = colorType switch
        {
            PngColorType.Greyscale => bitDepth is 1 or 2 or 4 or 8 or 16,
            PngColorType.Palette => bitDepth is 1 or 2 or 4 or 8,
            PngColorType.Rgb or PngColorType.GreyscaleAlpha or PngColorType.Rgba => bitDepth is 8 or 16,
            _ => throw new ImageFileException(source, $"invalid PNG: colour type {body[9]}"),
        };
        if (!allowed)
            throw new ImageFileException(source, $"invalid PNG: bit depth {bitDepth} is not allowed with colour type {colorType}");
        if (body[10] != 0 || body[11] != 0)
            throw new ImageFileException(source, $"invalid PNG: compression method {body[10]} / filter method {body[11]}");
        if (body[12] == 1)
            throw new ImageFileException(source, "unsupported PNG: Adam7 interlacing is not supported; save the file without interlacing");
        if (body[12] != 0)
            throw new ImageFileException(source, $"invalid PNG: interlace method {body[12]}");
        return new Header((int)width, (int)height, bitDepth, colorType);
    }

    private static byte[] Unfilter(byte[] filtered, Header header, int rowBytes, string source)
    {
        var bitsPerPixel = PngRaster.ChannelsOf(header.ColorType) * header.BitDepth;
        var bpp = Math.Max(1, bitsPerPixel / 8);
        var output = new byte[checked((long)header.Height * rowBytes)];
        var previous = new byte[rowBytes]; // the row above the first is all zeros
        for (var y = 0; y < header.Height; y++)
        {
            var filterType = filtered[y * (rowBytes + 1)];
            var input = filtered.AsSpan(y * (rowBytes + 1) + 1, rowBytes);
            var row = output.AsSpan(y * rowBytes, rowBytes);
            ReadOnlySpan<byte> above = y == 0 ? previous : output.AsSpan((y - 1) * rowBytes, rowBytes);
            switch (filterType)
            {
                case 0:
                    input.CopyTo(row);
                    break;
                case 1:
                    for (var i = 0; i < rowBytes; i++)
                        row[i] = (byte)(input[i] + (i >= bpp ? row[i - bpp] : 0));
                    break;
                case 2:
                    for (var i = 0; i < rowBytes; i++)
                        row[i] = (byte)(input[i] + above[i]);
                    break;
                case 3:
                    for (var i = 0; i < rowBytes; i++)
                        row[i] = (byte)(input[i] + (((i >= bpp ? row[i - bpp] : 0) + above[i]) >> 1));
                    break;
                case 4:
                    for (var i = 0; i < rowBytes; i++)
                    {
                        var left = i >= bpp ? row[i - bpp] : 0;
                        var upLeft = i >= bpp ? above[i - bpp] : 0;
                        row[i] = (byte)(input[i] + Paeth(left, above[i], upLeft));
                    }
                    break;
                default:
                    throw new ImageFileException(source, $"corrupt PNG: unknown filter type {filterType} on row {y}");
            }
        }
        return output;
    }

    internal static int Paeth(int left, int above, int upperLeft)
    {
        var p = left + above - upperLeft;
        var pa = Math.Abs(p - left);
        var pb = Math.Abs(p - above);
        var pc = Math.Abs(p - upperLeft);
        if (pa <= pb && pa <= pc) return left;
        return pb <= pc ? above : upperLeft;
    }
}
