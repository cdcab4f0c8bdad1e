namespace EMANet.Cli;

/// <summary>
/// The exit codes of <c>emanet</c>. 2 and 1 follow the usual Unix convention (usage error, failure);
/// a run stopped by a signal exits 128 + the signal number, as a shell reports a process killed by it
/// (and as a PyTorch script's wrapper expects).
/// </summary>
public static class ExitCodes
{
    /// <summary>The command did what was asked (help included).</summary>
    public const int Success = 0;

    /// <summary>The command failed (bad data, unreadable or corrupt files, invalid values, a native error, ...).</summary>
    public const int Failure = 1;

    /// <summary>The command line cannot be used: unknown command, option or network, missing argument or option, malformed value.</summary>
    public const int Usage = 2;

    /// <summary>Training stopped by SIGINT (Ctrl+C) after writing its checkpoint: 128 + 2.</summary>
    public const int Interrupted = 130;

    /// <summary>Training stopped by SIGTERM after writing its checkpoint: 128 + 15.</summary>
    public const int Terminated = 143;
}
