using System.Text.RegularExpressions;

namespace EMANet.Cli;

/// <summary>The command line that continues a stopped or failed <c>emanet train</c>: the same arguments with <c>--resume CHECKPOINT</c>.</summary>
public static partial class ResumeCommand
{
    /// <summary>
    /// <c>emanet train ARGS --resume CHECKPOINT</c>: <paramref name="trainArgs"/> (after the command
    /// name) without any earlier --resume, shell-quoted where needed. Repeating the recipe options is
    /// allowed: a resume refuses only values that differ from the checkpoint's.
    /// </summary>
    public static string Format(IReadOnlyList<string> trainArgs, string checkpoint)
    {
        var kept = new List<string>();
        for (var i = 0; i < trainArgs.Count; i++)
        {
            if (trainArgs[i] == "--resume") { i++; continue; }
            if (trainArgs[i].StartsWith("--resume=", StringComparison.Ordinal)) continue;
            kept.Add(trainArgs[i]);
        }
        return "emanet train " + Quote([.. kept, "--resume", checkpoint]);
    }

    /// <summary>The arguments joined by spaces, each in single quotes unless it consists of characters a POSIX shell leaves alone.</summary>
    public static string Quote(IEnumerable<string> args) =>
        string.Join(' ', args.Select(a => a.Length > 0 && Plain().IsMatch(a) ? a : "'" + a.Replace("'", "'\\''") + "'"));

    [GeneratedRegex(@"^[A-Za-z0-9_./:=,+@%^-]+$")]
    private static partial Regex Plain();
}
