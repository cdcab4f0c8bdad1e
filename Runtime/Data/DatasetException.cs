namespace EMANet.Runtime.Data;

/// <summary>
/// A dataset that cannot be opened or a sample that cannot be used. The message names the file or
/// directory at fault and, where there is one, what to do about it.
/// </summary>
public class DatasetException : Exception
{
    public DatasetException(string message, Exception? inner = null) : base(message, inner) { }
}
