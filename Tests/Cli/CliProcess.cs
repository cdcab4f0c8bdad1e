using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace EMANet.Tests.Cli;

/// <summary>
/// The real <c>emanet</c> process as a user runs it: <c>dotnet emanet.dll ARGS</c> (the CLI is built into the
/// test output folder as a project reference), with its standard output and error captured line by line,
/// POSIX signals sent with kill(2), and every wait bounded (a process still running at the end is killed).
/// </summary>
internal sealed class CliProcess : IDisposable
{
    public const int SigInt = 2, SigKill = 9, SigTerm = 15;

    private readonly Process _process;
    private readonly List<string> _output = [];
    private readonly List<string> _error = [];
    private readonly object _gate = new();

    private CliProcess(Process process) => _process = process;

    /// <summary>The CLI assembly next to the tests.</summary>
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "emanet.dll");

    /// <summary>Starts <c>dotnet emanet.dll <paramref name="args"/></c> in <paramref name="workingDirectory"/>, with TMPDIR there too (the shared error log stays in the test's folder).</summary>
    public static CliProcess Start(string workingDirectory, params string[] args) => Start(workingDirectory, null, args);

    /// <summary>As <see cref="Start(string, string[])"/>, with <paramref name="environment"/> set (a null value removes the variable).</summary>
    public static CliProcess Start(string workingDirectory, IReadOnlyDictionary<string, string?>? environment, params string[] args)
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path ? path : "dotnet";
        var start = new ProcessStartInfo(host)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Dll);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["TMPDIR"] = workingDirectory;
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
            if (value is null) start.Environment.Remove(name);
            else start.Environment[name] = value;
        var process = new Process { StartInfo = start };
        var cli = new CliProcess(process);
        process.OutputDataReceived += (_, e) => cli.Add(cli._output, e.Data);
        process.ErrorDataReceived += (_, e) => cli.Add(cli._error, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return cli;
    }

    /// <summary>Runs to the end (at most <paramref name="timeout"/>); returns the exit code and the whole output and error.</summary>
    public static (int Exit, string Output, string Error) Run(string workingDirectory, TimeSpan timeout, params string[] args) =>
        Run(workingDirectory, timeout, null, args);

    /// <summary>As <see cref="Run(string, TimeSpan, string[])"/>, with <paramref name="environment"/> set (a null value removes the variable).</summary>
    public static (int Exit, string Output, string Error) Run(string workingDirectory, TimeSpan timeout, IReadOnlyDictionary<string, string?>? environment, params string[] args)
    {
        using var process = Start(workingDirectory, environment, args);
        var exit = process.WaitForExit(timeout);
        return (exit, process.Output, process.Error);
    }

    public string Output { get { lock (_gate) return string.Join('\n', _output); } }

    public string Error { get { lock (_gate) return string.Join('\n', _error); } }

    public IReadOnlyList<string> ErrorLines { get { lock (_gate) return [.. _error]; } }

    private void Add(List<string> lines, string? line)
    {
        if (line is null) return;
        lock (_gate)
        {
            lines.Add(line);
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Waits until a line of standard output satisfies <paramref name="match"/>; fails the test after <paramref name="timeout"/> or when the process ends first.</summary>
    public void WaitForOutput(Func<string, bool> match, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        lock (_gate)
        {
            while (!_output.Any(match))
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                    throw new TimeoutException($"no matching output line within {timeout}; output:\n{string.Join('\n', _output)}\nerror:\n{string.Join('\n', _error)}");
                if (_process.HasExited && !Monitor.Wait(_gate, 200))
                    throw new InvalidOperationException($"the process ended (exit {_process.ExitCode}) before a matching line; output:\n{string.Join('\n', _output)}\nerror:\n{string.Join('\n', _error)}");
                Monitor.Wait(_gate, left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
            }
        }
    }

    /// <summary>Sends a POSIX signal (kill(2)).</summary>
    public void Signal(int signal)
    {
        if (kill(_process.Id, signal) != 0)
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>The exit code; kills the process and fails the test when it runs longer than <paramref name="timeout"/>.</summary>
    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
            throw new TimeoutException($"emanet did not end within {timeout}; output:\n{Output}\nerror:\n{Error}");
        }
        _process.WaitForExit(); // drains the redirected streams
        return _process.ExitCode;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit();
            }
        }
        catch (InvalidOperationException)
        {
            // never started
        }
        _process.Dispose();
    }

    /// <summary>Splits a command line printed by emanet (words separated by spaces, single quotes as a POSIX shell reads them).</summary>
    public static string[] SplitCommandLine(string line)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (c == '\'')
            {
                var end = line.IndexOf('\'', i + 1);
                word.Append(line, i + 1, end - i - 1);
                i = end;
                inWord = true;
            }
            else if (c == '\\' && i + 1 < line.Length)
            {
                word.Append(line[++i]);
                inWord = true;
            }
            else if (c == ' ')
            {
                if (inWord) words.Add(word.ToString());
                word.Clear();
                inWord = false;
            }
            else
            {
                word.Append(c);
                inWord = true;
            }
        }
        if (inWord) words.Add(word.ToString());
        return [.. words];
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);
}
