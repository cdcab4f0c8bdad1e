namespace EMANet.Runtime.Data;

/// <summary>A sample whose image or mask is missing, unreadable, of the wrong size or wrongly labelled.</summary>
public sealed class InvalidSampleException : DatasetException
{
    public InvalidSampleException(string sampleId, string path, string problem, Exception? inner = null)
        : base($"{path}: {problem} (sample '{sampleId}')", inner)
    {
        SampleId = sampleId;
        FilePath = path;
        Problem = problem;
    }

    public string SampleId { get; }

    /// <summary>The file at fault.</summary>
    public string FilePath { get; }

    public string Problem { get; }
}
