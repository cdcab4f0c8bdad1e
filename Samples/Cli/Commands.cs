using EMANet.Runtime.Networks;
using EMANet.Runtime.Reports;
using EMANet.Runtime.Training;

namespace EMANet.Cli;

/// <summary>The commands: argument grammar, then one call into the runtime each.</summary>
public static class Commands
{
    public static readonly CommandSpec Networks = new(
        "networks",
        "Lists every network of EMANet.Models with its declared input, classes, parameters, GFLOPs and activation memory (batch 1).",
        [],
        []);

    public static readonly CommandSpec Cost = new(
        "cost",
        "Prints a network's per-layer cost table (output shape, parameters, MACs, FLOPs, output memory at batch 1) with totals.",
        [("network", "A network name (see emanet networks).")],
        [
            new("--input", "CxHxW", "Input shape (default: the declared one), e.g. 3x513x513."),
            new("--classes", "N", "Number of classes (default: the declared one)."),
            new("--json", null, "Print one JSON object instead of the table."),
        ]);

    public static readonly IReadOnlyList<(OptionSpec Spec, Func<TrainingOptions, ParsedArguments, TrainingOptions> Apply)> TrainingOptionTable =
    [
        (new("--iterations", "N", "Optimizer steps of the run (30000)."), (o, a) => o with { Iterations = a.Int("--iterations")!.Value }),
        (new("--batch-size", "N", "Images per step (16)."), (o, a) => o with { BatchSize = a.Int("--batch-size")!.Value }),
        (new("--lr", "X", "Base learning rate (0.009)."), (o, a) => o with { LearningRate = a.Double("--lr")!.Value }),
        (new("--momentum", "X", "SGD momentum (0.9)."), (o, a) => o with { Momentum = a.Double("--momentum")!.Value }),
        (new("--weight-decay", "X", "Weight decay of convolution weights (1e-4)."), (o, a) => o with { WeightDecay = a.Double("--weight-decay")!.Value }),
        (new("--bias-lr-mult", "X", "Learning-rate multiple of biases, no decay (2)."), (o, a) => o with { BiasLearningRateMultiplier = a.Double("--bias-lr-mult")!.Value }),
        (new("--poly-power", "X", "Power of the polynomial lr decay (0.9)."), (o, a) => o with { PolyPower = a.Double("--poly-power")!.Value }),
        (new("--poly-interval", "N", "Recompute the lr every N iterations (10)."), (o, a) => o with { PolyUpdateInterval = a.Int("--poly-interval")!.Value }),
        (new("--ignore-index", "N", "Label ignored by the loss (255)."), (o, a) => o with { IgnoreIndex = a.Int("--ignore-index")!.Value }),
        (new("--aux-weight", "X", "Weight of the auxiliary loss (0.4)."), (o, a) => o with { AuxiliaryLossWeight = a.Double("--aux-weight")!.Value }),
        (new("--bn-momentum", "X|keep", "BatchNorm momentum (3e-4); 'keep' leaves the network's."),
            (o, a) => o with { BatchNormMomentum = a.Text("--bn-momentum") == "keep" ? null : a.Double("--bn-momentum")!.Value }),
        (new("--seed", "N", "Seed of initialisation, dropout and data order (66)."), (o, a) => o with { Seed = a.Long("--seed")!.Value }),
        (new("--checkpoint-interval", "N", "Checkpoint every N iterations, 0 = only at the end (2000)."), (o, a) => o with { CheckpointInterval = a.Int("--checkpoint-interval")!.Value }),
        (new("--eval-interval", "N", "Validate every N iterations, 0 = only at the end (2000)."), (o, a) => o with { EvaluationInterval = a.Int("--eval-interval")!.Value }),
        (new("--log-interval", "N", "Progress line every N iterations when output is redirected (20)."), (o, a) => o with { LogInterval = a.Int("--log-interval")!.Value }),
        (new("--device", "auto|cpu|cuda[:N]", "Device (auto: CUDA when available)."), (o, a) => o with { Device = a.Text("--device")! }),
    ];

    public static readonly CommandSpec Train = new(
        "train",
        "Trains a network with the EMANet recipe (SGD, poly lr, CE ignoring 255, EMA bases' moving average); writes run.json, " +
        "checkpoint.ckpt, curves.csv, curves.png and a TensorBoard log into --out. Ctrl+C stops after the current step with a checkpoint.",
        [("network", "A network name (see emanet networks).")],
        [
            new("--data", "SPEC", "Training data, opened by a registered data provider (required)."),
            new("--out", "DIR", "Output directory (required)."),
            new("--resume", "FILE", "Continue from a checkpoint (its settings; only intervals, logging and device may change)."),
            new("--input", "CxHxW", "Input / crop shape (default: the declared one, or the checkpoint's)."),
            new("--classes", "N", "Number of classes (default: the declared one, or the checkpoint's)."),
            .. TrainingOptionTable.Select(t => t.Spec),
        ]);

    public static readonly IReadOnlyList<CommandSpec> All = [Networks, Cost, Train];

    public static int RunNetworks(ParsedArguments _, CliEnvironment environment, TextWriter output)
    {
        output.Write(CostReport.FormatCatalog(environment.Networks));
        return 0;
    }

    public static int RunCost(ParsedArguments arguments, CliEnvironment environment, TextWriter output)
    {
        var entry = environment.FindNetwork(arguments.Positionals[0]);
        var input = arguments.Text("--input") is { } text ? ParseShape(text) : (TensorShape?)null;
        var analysis = CostReport.Analyze(entry, input, arguments.Int("--classes"));
        output.Write(arguments.Has("--json") ? CostReport.ToJson(entry.Name, analysis) + "\n" : CostReport.FormatTable(entry.Name, analysis));
        return 0;
    }

    public static int RunTrain(ParsedArguments arguments, CliEnvironment environment, TextWriter output, CancellationToken cancellation)
    {
        var entry = environment.FindNetwork(arguments.Positionals[0]);
        var spec = arguments.Text("--data") ?? throw new UsageException("--data SPEC is required");
        var outputDirectory = arguments.Text("--out") ?? throw new UsageException("--out DIR is required");
        var provider = environment.FindDataProvider(spec);
        var given = TrainingOptionTable.Where(t => arguments.Has(t.Spec.Name)).ToArray();
        var logInterval = arguments.Int("--log-interval");
        var result = TrainingSession.Run(new TrainingSessionRequest
        {
            Network = entry,
            Classes = arguments.Int("--classes"),
            Input = arguments.Text("--input") is { } text ? ParseShape(text) : null,
            Options = o => given.Aggregate(o, (current, t) => t.Apply(current, arguments)),
            Data = provider.Open,
            DataSpec = spec,
            OutputDirectory = outputDirectory,
            ResumeFrom = arguments.Text("--resume"),
            Monitors = [ReferenceEquals(output, Console.Out)
                ? ConsoleProgress.ForConsole(logInterval ?? new TrainingOptions().LogInterval)
                : new ConsoleProgress(output, interactive: false, logInterval ?? new TrainingOptions().LogInterval)],
        }, cancellation);
        return result.Completed || cancellation.IsCancellationRequested ? 0 : 1;
    }

    private static TensorShape ParseShape(string text)
    {
        try
        {
            return TensorShape.Parse(text);
        }
        catch (FormatException e)
        {
            throw new UsageException("--input: " + e.Message);
        }
    }
}
