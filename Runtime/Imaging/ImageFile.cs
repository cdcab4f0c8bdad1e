using StbImageSharp;

namespace EMANet.Runtime.Imaging;

/// <summary>
/// Decodes JPEG, PNG, BMP, TGA and GIF images to 8-bit RGB with StbImageSharp, turned as a viewer displays them:
/// a JPEG's EXIF orientation is applied (<see cref="ExifOrientation"/>), as mmcv's default <c>imread</c> does.
/// </summary>
public static class ImageFile
{
    public static RgbImage ReadRgb(string path) => DecodeRgb(ImageFileBytes.Read(path), path);

    /// <param name="source">Named in error messages (a path or a description).</param>
    public static RgbImage DecodeRgb(byte[] data, string source)
    {
        if (data.Length == 0)
            throw new ImageFileException(source, "the image file is empty");
        ImageResult result;
        try
        {
            result = ImageResult.FromMemory(data, ColorComponents.RedGreenBlue);
        }
        catch (Exception e)
        {
            throw new ImageFileException(source, $"cannot decode the image ({e.Message})", e);
        }
        if (result?.Data is null || result.Width <= 0 || result.Height <= 0)
            throw new ImageFileException(source, "cannot decode the image (no pixel data)");
        if (result.Data.Length != result.Width * result.Height * 3)
            throw new ImageFileException(source, $"decoder returned {result.Data.Length} bytes for {result.Width}x{result.Height} RGB");
        return ExifOrientation.Apply(new RgbImage(result.Height, result.Width, result.Data), ExifOrientation.Read(data));
    }
}
