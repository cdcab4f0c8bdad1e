using System.Diagnostics;

namespace EMANet.Tests.Cli;

/// <summary>Runs the built <c>emanet</c> CLI as a user does: a separate process, its exit code, stdout and stderr.</summary>
internal static class CliProcess
{
    /// <summary>The CLI assembly, copied next to the tests by the project reference.</summary>
    public static string Assembly { get; } = Path.Combine(AppContext.BaseDirectory, "emanet.dll");

    /// <summary>Runs <c>dotnet emanet.dll args</c> in <paramref name="workingDirectory"/>; kills it after <paramref name="timeout"/>.</summary>
    public static (int Exit, string Output, string Error) Run(string workingDirectory, TimeSpan timeout, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Assembly);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"emanet {string.Join(' ', args)} did not finish in {timeout}");
        }
        return (process.ExitCode, output.Result, error.Result);
    }
}
