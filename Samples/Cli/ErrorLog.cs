using System.Globalization;

namespace EMANet.Cli;

/// <summary>
/// Where a failure's details go, so the terminal gets one line and nothing is lost: the exception's
/// type, message, inner exceptions and stack traces, appended with a UTC timestamp and the command
/// line to <c>&lt;run folder&gt;/error.log</c> for <c>train</c>, else to <c>emanet-error.log</c> in the
/// temporary folder (<see cref="Path.GetTempPath"/>, i.e. $TMPDIR or /tmp).
/// </summary>
public static class ErrorLog
{
    public const string FileName = "error.log";

    /// <summary>The log of commands that have no run folder.</summary>
    public static string SharedPath => Path.Combine(Path.GetTempPath(), "emanet-" + FileName);

    /// <summary>Appends the entry; returns the file written, or null when it could not be written (the reason in <paramref name="problem"/>).</summary>
    public static string? Append(string? runDirectory, IReadOnlyList<string> args, Exception exception, out string? problem)
    {
        problem = null;
        var path = runDirectory is null ? SharedPath : Path.Combine(runDirectory, FileName);
        var entry = string.Create(CultureInfo.InvariantCulture,
            $"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} emanet {ResumeCommand.Quote(args)}{Environment.NewLine}{exception}{Environment.NewLine}{Environment.NewLine}");
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            File.AppendAllText(path, entry);
            return path;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            problem = e.Message;
            return null;
        }
    }
}
