using EMANet.Runtime.Training;

namespace EMANet.Cli;

/// <summary>The <c>emanet</c> command: networks, cost, train, eval, predict, convert.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        using var cancellation = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            if (cancellation.IsCancellationRequested) return; // a second Ctrl+C ends the process
            e.Cancel = true;
            Console.Error.WriteLine("emanet: stopping after the current step (Ctrl+C again to abort)");
            cancellation.Cancel();
        };
        return Run(args, Console.Out, Console.Error, CliEnvironment.Default, cancellation.Token);
    }

    /// <summary>Runs one command line; returns the exit code (0 success, 1 failure, 2 usage error). Errors are one line on <paramref name="error"/>.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error, CliEnvironment? environment = null, CancellationToken cancellation = default)
    {
        environment ??= CliEnvironment.Default;
        if (args.Length == 0 || args[0] is "--help" or "-h" or "-?" or "help")
        {
            output.Write(RootHelp());
            return args.Length == 0 ? 2 : 0;
        }
        var command = Commands.All.FirstOrDefault(c => c.Name == args[0]);
        if (command is null)
        {
            error.WriteLine($"emanet: unknown command '{args[0]}'; commands: {string.Join(", ", Commands.All.Select(c => c.Name))} (see emanet --help)");
            return 2;
        }
        try
        {
            var arguments = command.Parse(args[1..]);
            if (arguments is null)
            {
                output.Write(command.Help());
                return 0;
            }
            return command.Name switch
            {
                "networks" => Commands.RunNetworks(arguments, environment, output),
                "cost" => Commands.RunCost(arguments, environment, output),
                "train" => Commands.RunTrain(arguments, environment, output, cancellation),
                "eval" => Commands.RunEval(arguments, environment, output),
                "predict" => Commands.RunPredict(arguments, environment, output),
                "convert" => Commands.RunConvert(arguments, environment, output),
                _ => throw new InvalidOperationException($"command '{command.Name}' has no handler"),
            };
        }
        catch (UsageException e)
        {
            error.WriteLine($"emanet {command.Name}: {OneLine(e.Message)}");
            return 2;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or IOException or InvalidOperationException or TrainingDivergedException or UnauthorizedAccessException
                                   or EMANet.Runtime.IO.WeightsFormatException or EMANet.Runtime.IO.StateDictLoadException or CheckpointException
                                   or EMANet.Runtime.Data.DatasetException or EMANet.Runtime.Imaging.ImageFileException)
        {
            error.WriteLine($"emanet {command.Name}: {OneLine(e.Message)}");
            return 1;
        }
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
