using System.Globalization;

namespace EMANet.Cli;

/// <summary>A command-line mistake: printed as one line, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>One option of a command: a flag when <see cref="Value"/> is null, else it takes a value.</summary>
public sealed record OptionSpec(string Name, string? Value, string Help);

/// <summary>A command's grammar: positional arguments (all required) and options.</summary>
public sealed record CommandSpec(string Name, string Summary, IReadOnlyList<(string Name, string Help)> Positionals, IReadOnlyList<OptionSpec> Options)
{
    /// <summary>
    /// The command's help text. Argument and option names sit in one column as wide as the longest name plus two
    /// spaces (at least 28), so every line reads "  NAME  text" and no name runs into its text.
    /// </summary>
    public string Help()
    {
        var writer = new StringWriter();
        var options = Options.Append(new OptionSpec("--help", null, "Show this help.")).ToArray();
        var labels = Positionals.Select(p => "<" + p.Name + ">").Concat(options.Select(Label));
        var column = Math.Max(28, labels.Max(l => l.Length) + 2);
        var positionals = string.Concat(Positionals.Select(p => $" <{p.Name}>"));
        writer.WriteLine($"Usage: emanet {Name}{positionals}{(Options.Count > 0 ? " [options]" : "")}");
        writer.WriteLine();
        writer.WriteLine(Summary);
        if (Positionals.Count > 0)
        {
            writer.WriteLine();
            writer.WriteLine("Arguments:");
            foreach (var (name, help) in Positionals) writer.WriteLine($"  {("<" + name + ">").PadRight(column)}{help}");
        }
        writer.WriteLine();
        writer.WriteLine("Options:");
        foreach (var option in options)
            writer.WriteLine($"  {Label(option).PadRight(column)}{option.Help}");
        return writer.ToString();
    }

    private static string Label(OptionSpec option) => option.Name + (option.Value is null ? "" : " " + option.Value);

    /// <summary>Parses <paramref name="args"/> (after the command name); null when help was asked for.</summary>
    public ParsedArguments? Parse(IReadOnlyList<string> args)
    {
        var positionals = new List<string>();
        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "--help" or "-h" or "-?") return null;
            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.Length > 2)
            {
                var equals = arg.IndexOf('=');
                var name = equals > 0 ? arg[..equals] : arg;
                var option = Options.FirstOrDefault(o => o.Name == name)
                             ?? throw new UsageException($"unknown option '{name}' (see emanet {Name} --help)");
                string? value = null;
                if (option.Value is null)
                {
                    if (equals > 0) throw new UsageException($"option '{name}' takes no value");
                }
                else if (equals > 0) value = arg[(equals + 1)..];
                else if (i + 1 < args.Count) value = args[++i];
                else throw new UsageException($"option '{name}' needs a value {option.Value}");
                if (!values.TryAdd(name, value)) throw new UsageException($"option '{name}' is given twice");
            }
            else if (arg.StartsWith('-') && arg.Length > 1 && !double.TryParse(arg, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            {
                throw new UsageException($"unknown option '{arg}' (see emanet {Name} --help)");
            }
            else
            {
                positionals.Add(arg);
            }
        }
        if (positionals.Count < Positionals.Count)
            throw new UsageException($"missing <{Positionals[positionals.Count].Name}> (usage: emanet {Name}{string.Concat(Positionals.Select(p => $" <{p.Name}>"))} [options])");
        if (positionals.Count > Positionals.Count)
            throw new UsageException($"unexpected argument '{positionals[Positionals.Count]}'");
        return new ParsedArguments(positionals, values);
    }
}

/// <summary>The parsed positionals and options of one command line.</summary>
public sealed class ParsedArguments(IReadOnlyList<string> positionals, IReadOnlyDictionary<string, string?> values)
{
    public IReadOnlyList<string> Positionals { get; } = positionals;

    public bool Has(string option) => values.ContainsKey(option);

    public string? Text(string option) => values.TryGetValue(option, out var value) ? value : null;

    public int? Int(string option) =>
        Text(option) is not { } text ? null
        : int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value
        : throw new UsageException($"{option}: '{text}' is not an integer");

    public long? Long(string option) =>
        Text(option) is not { } text ? null
        : long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value
        : throw new UsageException($"{option}: '{text}' is not an integer");

    public double? Double(string option) =>
        Text(option) is not { } text ? null
        : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value) ? value
        : throw new UsageException($"{option}: '{text}' is not a number");
}
