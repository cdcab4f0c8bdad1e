using EMANet.Runtime.Training;

namespace EMANet.Cli;

/// <summary>The <c>emanet</c> command: networks, cost, train, eval, predict, export, convert.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] != "train")
            return Run(args, Console.Out, Console.Error, CliEnvironment.Default);
        // Only a training run stops gracefully; other commands keep the signals' default (immediate) termination.
        int code;
        using (var signals = new StopSignals(Console.Error))
            code = Run(args, Console.Out, Console.Error, CliEnvironment.Default, signals.Token, () => signals.ExitCode);
        ExitWithoutNativeTeardown(code);
        return code;
    }

    /// <summary>
    /// Ends a finished training run (its checkpoint, logs and outputs written and closed) with <paramref name="code"/>
    /// through libc's <c>_exit</c>: no atexit handlers and no C++ static destructors of libtorch, which can run while a
    /// native worker thread is still inside an operation and abort the process after the run has succeeded (seen here
    /// as exit 134 "corrupted size vs. prev_size" or 139 after SIGTERM, intermittently under load). PyTorch's DataLoader
    /// workers end the same way (os._exit). Linux only; elsewhere the normal return follows.
    /// </summary>
    private static void ExitWithoutNativeTeardown(int code)
    {
        if (!OperatingSystem.IsLinux()) return;
        Console.Out.Flush();
        Console.Error.Flush();
        LibC.Exit(code);
    }

    private static class LibC
    {
        [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "_exit")]
        public static extern void Exit(int status);
    }

    /// <summary>
    /// Runs one command line and returns its exit code (<see cref="ExitCodes"/>): 0 success, 2 usage
    /// error, 1 any other failure, and for a training run stopped by <paramref name="cancellation"/>
    /// (after its checkpoint) <paramref name="stoppedExitCode"/>() (default 130).
    /// <para>
    /// Errors are one line on <paramref name="error"/>: <c>emanet COMMAND: message</c>. Failures
    /// (every exception but a usage error, native ones included) also name the log that received
    /// their details (<see cref="ErrorLog"/>); a training run that has a checkpoint adds a second line
    /// with the command that continues it, as does a stopped run.
    /// </para>
    /// </summary>
    public static int Run(string[] args, TextWriter output, TextWriter error, CliEnvironment? environment = null, CancellationToken cancellation = default,
        Func<int>? stoppedExitCode = null)
    {
        environment ??= CliEnvironment.Default;
        if (args.Length == 0 || args[0] is "--help" or "-h" or "-?" or "help")
        {
            output.Write(RootHelp());
            return args.Length == 0 ? ExitCodes.Usage : ExitCodes.Success;
        }
        var command = Commands.All.FirstOrDefault(c => c.Name == args[0]);
        if (command is null)
        {
            error.WriteLine($"emanet: unknown command '{args[0]}'; commands: {string.Join(", ", Commands.All.Select(c => c.Name))} (see emanet --help)");
            return ExitCodes.Usage;
        }
        var train = new TrainRunRecord();
        try
        {
            var arguments = command.Parse(args[1..]);
            if (arguments is null)
            {
                output.Write(command.Help());
                return ExitCodes.Success;
            }
            var exit = command.Name switch
            {
                "networks" => Commands.RunNetworks(arguments, environment, output),
                "cost" => Commands.RunCost(arguments, environment, output),
                "train" => Commands.RunTrain(arguments, environment, output, cancellation, train),
                "eval" => Commands.RunEval(arguments, environment, output),
                "predict" => Commands.RunPredict(arguments, environment, output),
                "export" => Commands.RunExport(arguments, environment, output),
                "convert" => Commands.RunConvert(arguments, environment, output),
                _ => throw new InvalidOperationException($"command '{command.Name}' has no handler"),
            };
            if (exit != ExitCodes.Interrupted) return exit;
            error.WriteLine(train.Checkpoint is { } checkpoint
                ? $"emanet train: stopped at iteration {train.StoppedAt}; continue with: {ResumeCommand.Format(args[1..], checkpoint)}"
                : $"emanet train: stopped at iteration {train.StoppedAt}, before any checkpoint; nothing to resume");
            return stoppedExitCode?.Invoke() ?? ExitCodes.Interrupted;
        }
        catch (UsageException e)
        {
            error.WriteLine($"emanet {command.Name}: {OneLine(e.Message)}");
            return ExitCodes.Usage;
        }
        catch (Exception e)
        {
            var runDirectory = command.Name == "train" ? train.OutputDirectory : null;
            var log = ErrorLog.Append(runDirectory, args, e, out var problem);
            error.WriteLine($"emanet {command.Name}: {Describe(e)} " + (log is not null ? $"(details: {log})" : $"(the details could not be logged: {OneLine(problem!)})"));
            if (command.Name == "train" && train.Checkpoint is { } checkpoint)
                error.WriteLine($"emanet train: continue with: {ResumeCommand.Format(args[1..], checkpoint)}");
            return ExitCodes.Failure;
        }
    }

    /// <summary>
    /// The terminal's text of a failure: the message of the project's own errors (written to be read
    /// alone), the type and first line of the message for anything else (a native libtorch message
    /// continues with its C++ frames, which go to the log only).
    /// </summary>
    private static string Describe(Exception e)
    {
        if (e is ArgumentException or FormatException or IOException or InvalidOperationException or TrainingDivergedException or UnauthorizedAccessException
            or EMANet.Runtime.IO.WeightsFormatException or EMANet.Runtime.IO.StateDictLoadException or CheckpointException
            or EMANet.Runtime.Data.DatasetException or EMANet.Runtime.Imaging.ImageFileException)
            return OneLine(e.Message);
        var first = e.Message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Trim() ?? "";
        var kind = e is System.Runtime.InteropServices.ExternalException ? "native error" : e.GetType().Name;
        return first.Length == 0 ? kind : $"{kind}: {first}";
    }

    private static string RootHelp()
    {
        var writer = new StringWriter();
        writer.WriteLine("Usage: emanet <command> [arguments] [options]");
        writer.WriteLine();
        writer.WriteLine("EMANet segmentation networks: catalogue, cost tables, training.");
        writer.WriteLine();
        writer.WriteLine("Commands:");
        foreach (var command in Commands.All)
            writer.WriteLine($"  {command.Name,-10}{command.Summary}");
        writer.WriteLine();
        writer.WriteLine("Run 'emanet <command> --help' for a command's arguments and options.");
        return writer.ToString();
    }

    private static string OneLine(string message) => string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries));
}
