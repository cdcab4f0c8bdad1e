namespace EMANet.Runtime.Imaging;

internal static class ImageFileBytes
{
    /// <summary>The whole file, or an <see cref="ImageFileException"/> naming it.</summary>
    public static byte[] Read(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageFileException(path, $"cannot read the file ({e.Message})", e);
        }
    }
}
