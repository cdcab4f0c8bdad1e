namespace EMANet.Runtime.Imaging;

/// <summary>
/// An image or mask file that is missing, unreadable or malformed. The message always starts with the
/// file's path (or the name of the in-memory source) so that the defect can be found.
/// </summary>
public sealed class ImageFileException : IOException
{
    public ImageFileException(string source, string problem, Exception? inner = null)
        : base($"{source}: {problem}", inner)
    {
        FilePath = source;
        Problem = problem;
    }

    /// <summary>Path of the file (or name of the in-memory source) that is at fault.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong with it, without the path.</summary>
    public string Problem { get; }
}
