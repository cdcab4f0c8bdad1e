using EMANet.Runtime.Networks;
using EMANet.Runtime.Reports;
using EMANet.Runtime.Data;
using EMANet.Runtime.Evaluation;
using EMANet.Runtime.IO;
using EMANet.Runtime.Onnx;
using EMANet.Runtime.Onnx.Quantization;
using EMANet.Runtime.Training;
using EMANet.Runtime.Workflows;
using static TorchSharp.torch;

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
        (new("--loss-average", "all|labelled", "Divide the cross-entropy by every pixel of the batch, as the authors and mmsegmentation (all), or by the labelled pixels only, as PyTorch's 'mean' (labelled)."),
            (o, a) => o with { LossAverage = LossAverages.TryParse(a.Text("--loss-average"), out var average) ? average
                : throw new UsageException($"--loss-average: '{a.Text("--loss-average")}' is not all or labelled") }),
        (new("--aux-weight", "X", "Weight of the auxiliary loss (0.4)."), (o, a) => o with { AuxiliaryLossWeight = a.Double("--aux-weight")!.Value }),
        (new("--bn-momentum", "X|keep", "BatchNorm momentum (3e-4); 'keep' leaves the network's."),
            (o, a) => o with { BatchNormMomentum = a.Text("--bn-momentum") == "keep" ? null : a.Double("--bn-momentum")!.Value }),
        (new("--seed", "N", "Seed of initialisation, dropout and data order (66)."), (o, a) => o with { Seed = a.Long("--seed")!.Value }),
        (new("--checkpoint-interval", "N", "Checkpoint every N iterations, 0 = none by count (min(2000, a tenth of the run)). Checkpoints are also written after every validation, at the end and on Ctrl+C/SIGTERM."),
            (o, a) => o with { CheckpointInterval = a.Int("--checkpoint-interval")!.Value }),
        (new("--checkpoint-minutes", "X", "Also checkpoint when X minutes of wall time have passed since the last one, 0 = never (5)."),
            (o, a) => o with { CheckpointMinutes = a.Double("--checkpoint-minutes")!.Value }),
        (new("--eval-interval", "N", "Validate every N iterations, 0 = only at the end (2000)."), (o, a) => o with { EvaluationInterval = a.Int("--eval-interval")!.Value }),
        (new("--log-interval", "N", "Progress line every N iterations when output is redirected (20)."), (o, a) => o with { LogInterval = a.Int("--log-interval")!.Value }),
        (new("--device", "auto|cpu|cuda[:N]", "Device (auto: CUDA when available)."), (o, a) => o with { Device = a.Text("--device")! }),
        (new("--precision", "fp32|bf16-mixed", "Training precision: bf16-mixed runs every convolution in bfloat16 on casts of float32 weights; BN, EM and loss stay float32 (fp32)."), (o, a) => o with { Precision = a.Text("--precision")! }),
    ];

    public static readonly CommandSpec Train = new(
        "train",
        "Trains a network with the EMANet recipe (SGD, poly lr, CE ignoring 255, EMA bases' moving average); writes run.json, " +
        "checkpoint.ckpt, curves.csv, curves.png and a TensorBoard log into --out. Ctrl+C or SIGTERM stops after the current step with a checkpoint " +
        "(exit 130 / 143) and prints the command that continues the run; a failure's details go to error.log in --out.",
        [("network", "A network name (see emanet networks).")],
        [
            new("--data", "SPEC", "Training data, opened by a registered data provider (required)."),
            new("--out", "DIR", "Output directory (required)."),
            new("--resume", "FILE", "Continue from a checkpoint (its settings; only intervals, logging and device may change)."),
            new("--input", "CxHxW", "Input / crop shape (default: the declared one, or the checkpoint's)."),
            new("--classes", "N", "Number of classes (default: the declared one, or the checkpoint's)."),
            new("--val-limit", "N", "Validate on the first N images of the validation split (all)."),
            .. TrainingOptionTable.Select(t => t.Spec),
        ]);

    private static readonly OptionSpec WeightsOption = new("--weights", "FILE", "Weights: a training checkpoint (.ckpt), a PyTorch state dict (.pth/.pt) or .safetensors (required).");
    private static readonly OptionSpec LayoutOption = new("--layout", "auto|native|torchvision|deep-stem|mmseg|authors", "Key layout of a .pth/.safetensors file (auto: from its keys).");
    private static readonly OptionSpec FuseOption = new("--fuse", null, "Run the generated inference path: batch norms folded into the convolutions, in-place activations.");
    private static readonly OptionSpec InferencePrecisionOption = new("--precision", "fp32|bf16", "Inference precision: bf16 casts weights, buffers and activations to bfloat16; logits are compared in float32 (fp32).");
    private static readonly OptionSpec NonStrictOption = new("--non-strict", null, "Load what matches and report the rest (default: strict, like PyTorch's load_state_dict).");
    private static readonly OptionSpec[] EngineOptions =
    [
        new("--engine", "torch|onnxruntime", "What computes the logits: the TorchSharp network (torch), or ONNX Runtime on its exported graph, fused (torch)."),
        new("--onnx", "FILE", "Run this exported model (e.g. an int8 one from emanet export --int8) in ONNX Runtime instead of exporting the weights; implies --engine onnxruntime."),
        new("--threads", "N", "ONNX Runtime's intra-op threads (default: its choice, one per core)."),
        new("--graph-optimization", "none|basic|extended|all", "ONNX Runtime's graph optimisation level (all)."),
    ];

    public static readonly CommandSpec Eval = new(
        "eval",
        "Evaluates a network on a dataset's validation split: mIoU from a confusion matrix excluding 255, per-class IoU, pixel accuracy.",
        [("network", "A network name (see emanet networks).")],
        [
            WeightsOption,
            new("--data", "SPEC", "Dataset: " + DatasetFactory.Usage + " (required)."),
            new("--split", "NAME", "Split to evaluate (val)."),
            new("--scales", "S,S,...", "Multi-scale inference at these scales (e.g. 0.5,0.75,1,1.25,1.5,1.75); default single scale."),
            new("--flip", null, "Add left-right flipped inputs (averaged), as the paper's MS+Flip."),
            new("--sliding", "CROP", "Sliding-window inference with CROPxCROP windows (2/3 overlap stride) for images larger than the crop."),
            new("--limit", "N", "Evaluate the first N images only."),
            FuseOption,
            InferencePrecisionOption,
            new("--classes", "N", "Number of classes (default: the checkpoint's, the weights' classifier, the dataset's, the declared)."),
            LayoutOption,
            NonStrictOption,
            .. EngineOptions,
        ]);

    public static readonly CommandSpec Predict = new(
        "predict",
        "Runs a network on one image (PNG/JPEG) or a float32 NCHW .npy tensor (already normalised) and writes the VOC-coloured mask.",
        [("network", "A network name (see emanet networks).")],
        [
            WeightsOption,
            new("--input", "FILE", "Image (.png/.jpg) or tensor (.npy) (required)."),
            new("--output", "FILE", "Colour-mapped mask PNG, VOC palette (required)."),
            new("--overlay", "FILE", "Image blended with the mask, PNG (image inputs only)."),
            new("--logits", "FILE", "Raw logits, NumPy .npy float32 NCHW at the input size."),
            new("--attention", "FILE", "The first EMA unit's responsibilities z of 16 bases as a grid PNG."),
            FuseOption,
            InferencePrecisionOption,
            new("--classes", "N", "Number of classes (default: the checkpoint's, the weights' classifier, the declared)."),
            LayoutOption,
            NonStrictOption,
            .. EngineOptions,
        ]);

    public static readonly CommandSpec Export = new(
        "export",
        "Exports a network's inference path to ONNX (opset 17): batch norms folded, EM iterations unrolled, bilinear resizes with the " +
        "matching coordinate mode. Input 'input' B x C x H x W (normalised), output 'logits' B x classes x H x W.",
        [("network", "A network name (see emanet networks).")],
        [
            WeightsOption,
            new("--output", "FILE", "The .onnx file to write (atomically) (required)."),
            new("--input", "CxHxW", "Input size of the graph (default: the declared one, or the checkpoint's)."),
            new("--classes", "N", "Number of classes (default: the checkpoint's, the weights' classifier, the declared)."),
            new("--dynamic", null, "Leave batch, height and width free (any size the network accepts)."),
            new("--int8", null, "Static int8 quantization (QDQ: per-channel int8 weights, uint8 activations calibrated with MinMax), as ONNX Runtime's quantize_static; needs --calibration."),
            new("--calibration", "SPEC", "Calibration images for --int8: the training split of this dataset (" + DatasetFactory.Usage + "), run as eval runs them."),
            new("--calibration-images", "N", $"Calibrate on the first N images ({StaticQuantization.DefaultCalibrationImages})."),
            LayoutOption,
            NonStrictOption,
        ]);

    public static readonly CommandSpec Convert = new(
        "convert",
        "Converts weights (.ckpt, .pth/.pt, .safetensors) to .safetensors with this project's names.",
        [("input", "A .ckpt, .pth/.pt or .safetensors file."), ("output", "The .safetensors file to write (atomically).")],
        []);

    public static readonly IReadOnlyList<CommandSpec> All = [Networks, Cost, Train, Eval, Predict, Export, Convert];

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

    public static int RunTrain(ParsedArguments arguments, CliEnvironment environment, TextWriter output, CancellationToken cancellation) =>
        RunTrain(arguments, environment, output, cancellation, new TrainRunRecord());

    /// <summary>
    /// Trains; returns <see cref="ExitCodes.Success"/> at the end of the run, <see cref="ExitCodes.Interrupted"/>
    /// when <paramref name="cancellation"/> stopped it (after the checkpoint). <paramref name="record"/> follows the
    /// run folder and checkpoints for the caller's stop and failure messages.
    /// </summary>
    public static int RunTrain(ParsedArguments arguments, CliEnvironment environment, TextWriter output, CancellationToken cancellation, TrainRunRecord record)
    {
        var spec = arguments.Text("--data") ?? throw new UsageException("--data SPEC is required");
        var outputDirectory = arguments.Text("--out") ?? throw new UsageException("--out DIR is required");
        record.OutputDirectory = outputDirectory;
        record.StartingFrom(arguments.Text("--resume"));
        var entry = environment.FindNetwork(arguments.Positionals[0]);
        var provider = environment.FindDataProvider(spec);
        var given = TrainingOptionTable.Where(t => arguments.Has(t.Spec.Name)).ToArray();
        var logInterval = arguments.Int("--log-interval");
        var result = TrainingSession.Run(new TrainingSessionRequest
        {
            Network = entry,
            Classes = arguments.Int("--classes") ?? (arguments.Has("--resume") ? null : provider.DefaultClasses(spec)),
            Input = arguments.Text("--input") is { } text ? ParseShape(text) : null,
            Options = o => given.Aggregate(o, (current, t) => t.Apply(current, arguments)),
            Data = provider.Open,
            DataSpec = spec,
            OutputDirectory = outputDirectory,
            ResumeFrom = arguments.Text("--resume"),
            ValidationLimit = arguments.Int("--val-limit") is { } limit
                ? limit > 0 ? limit : throw new UsageException($"--val-limit: {limit} is not a positive number of images")
                : null,
            Monitors = [ReferenceEquals(output, Console.Out)
                ? ConsoleProgress.ForConsole(logInterval ?? new TrainingOptions().LogInterval)
                : new ConsoleProgress(output, interactive: false, logInterval ?? new TrainingOptions().LogInterval),
                record],
        }, cancellation);
        if (!result.Completed)
            return cancellation.IsCancellationRequested ? ExitCodes.Interrupted
                : throw new InvalidOperationException($"training stopped early at iteration {result.Iteration} without being asked to");
        if (result.LastMeanIoU is { } miou) output.WriteLine($"validation mIoU {miou * 100:F2}");
        if (result.Checkpoint is { } checkpoint && provider is DatasetProvider)
            output.WriteLine("wrote " + string.Join(", ", TrainingSample.Write(entry, checkpoint, spec, outputDirectory)));
        return 0;
    }

    public static int RunEval(ParsedArguments arguments, CliEnvironment environment, TextWriter output)
    {
        var entry = environment.FindNetwork(arguments.Positionals[0]);
        var weights = arguments.Text("--weights") ?? throw new UsageException("--weights FILE is required");
        var spec = arguments.Text("--data") ?? throw new UsageException("--data SPEC is required");
        using var network = TrainedNetwork.Load(entry, weights, arguments.Int("--classes"), Layout(arguments), !arguments.Has("--non-strict"), output.WriteLine,
            SegmentationDataSource.ClassesOf(spec));
        var precision = PrepareForInference(network, arguments);
        var dataset = DatasetFactory.Parse(spec, new DatasetOptions { Split = arguments.Text("--split") ?? "val", Size = network.InputShape.Height });
        IInferenceStrategy strategy = arguments.Int("--sliding") is { } crop
            ? new SlidingWindowInference(crop)
            : WholeImageInference.For(network);
        var scales = arguments.Text("--scales");
        if (scales is not null || arguments.Has("--flip"))
            strategy = new MultiScaleInference(strategy, scales is null ? [1.0] : ParseScales(scales), arguments.Has("--flip"));
        var engine = InferenceEngine(network, arguments);
        using var session = engine as IDisposable;   // an ONNX Runtime session
        output.WriteLine($"{entry.Name} on {dataset.Name} ({dataset.Count} images), {strategy.Description}, {(engine is TorchInferenceEngine ? precision + ", " : "")}{engine.Description}");
        var metrics = SegmentationEvaluator.Evaluate(network, dataset, strategy, arguments.Int("--limit"), engine);
        output.Write(metrics.FormatTable());
        return 0;
    }

    public static int RunPredict(ParsedArguments arguments, CliEnvironment environment, TextWriter output)
    {
        var entry = environment.FindNetwork(arguments.Positionals[0]);
        var weights = arguments.Text("--weights") ?? throw new UsageException("--weights FILE is required");
        var input = arguments.Text("--input") ?? throw new UsageException("--input FILE is required");
        var mask = arguments.Text("--output") ?? throw new UsageException("--output FILE is required");
        using var network = TrainedNetwork.Load(entry, weights, arguments.Int("--classes"), Layout(arguments), !arguments.Has("--non-strict"), output.WriteLine);
        PrepareForInference(network, arguments);
        var engine = InferenceEngine(network, arguments);
        using var session = engine as IDisposable;   // an ONNX Runtime session
        var written = SegmentationPredictor.Predict(network, input,
            new PredictionOutputs(mask, arguments.Text("--overlay"), arguments.Text("--logits"), arguments.Text("--attention")), engine: engine);
        output.WriteLine("wrote " + string.Join(", ", written));
        return 0;
    }

    public static int RunExport(ParsedArguments arguments, CliEnvironment environment, TextWriter output)
    {
        var entry = environment.FindNetwork(arguments.Positionals[0]);
        var weights = arguments.Text("--weights") ?? throw new UsageException("--weights FILE is required");
        var path = arguments.Text("--output") ?? throw new UsageException("--output FILE is required");
        var input = arguments.Text("--input") is { } text ? ParseShape(text) : (TensorShape?)null;
        using var network = TrainedNetwork.Load(entry, weights, arguments.Int("--classes"), Layout(arguments), !arguments.Has("--non-strict"), output.WriteLine);
        var options = new OnnxExportOptions(arguments.Has("--dynamic"), input);
        var segmentation = (ISegmentationNetwork)network;
        var calibration = arguments.Text("--calibration");
        var calibrationImages = arguments.Int("--calibration-images");
        long bytes;
        if (arguments.Has("--int8"))
        {
            if (calibration is null) throw new UsageException("--int8 needs --calibration SPEC (the images whose activation ranges set the int8 scales)");
            if (calibrationImages is <= 0) throw new UsageException($"--calibration-images: {calibrationImages} is not a positive number of images");
            var dataset = DatasetFactory.Parse(calibration, new DatasetOptions { Split = "train", Size = network.InputShape.Height });
            var model = StaticQuantization.Quantize(network, options, dataset, WholeImageInference.For(network), calibrationImages ?? StaticQuantization.DefaultCalibrationImages);
            bytes = OnnxExporter.WriteFile(model, path);
            output.WriteLine(model.MetadataProps.First(p => p.Key == "quantization").Value);
        }
        else
        {
            if (calibration is not null || calibrationImages is not null) throw new UsageException("--calibration and --calibration-images are --int8 options; add --int8");
            bytes = OnnxExporter.ExportFile(network, path, options);
        }
        output.WriteLine($"wrote {path} ({bytes} bytes, opset {OnnxGraphBuilder.OpsetVersion}, input {(options.DynamicAxes ? $"B x {segmentation.InputShape.Channels} x H x W" : "1 x " + (input ?? segmentation.InputShape))}, {segmentation.Classes} classes)");
        return 0;
    }

    public static int RunConvert(ParsedArguments arguments, CliEnvironment environment, TextWriter output)
    {
        int count = NetworkWeights.ConvertToSafetensors(arguments.Positionals[0], arguments.Positionals[1], environment.Networks);
        output.WriteLine($"wrote {arguments.Positionals[1]} ({count} tensors)");
        return 0;
    }

    /// <summary>Applies --fuse and --precision (fuse first: the folding uses the float32 statistics); returns a description.</summary>
    private static string PrepareForInference(SegmentationNetwork network, ParsedArguments arguments)
    {
        var precision = arguments.Text("--precision") switch
        {
            null or "fp32" => InferencePrecision.Float32,
            "bf16" => InferencePrecision.BFloat16,
            var other => throw new UsageException($"--precision '{other}': expected fp32 or bf16"),
        };
        var fused = arguments.Has("--fuse");
        if (fused) network.FuseForInference();
        if (precision != InferencePrecision.Float32) network.ForInference(precision);
        return (precision == InferencePrecision.BFloat16 ? "bf16" : "fp32") + (fused ? ", fused" : ", unfused");
    }

    /// <summary>The engine --engine names (torch by default); ONNX Runtime gets the network's export with free batch, height and width.</summary>
    private static IInferenceEngine InferenceEngine(nn.Module<Tensor, Tensor> network, ParsedArguments arguments)
    {
        var onnx = arguments.Text("--onnx");
        var engine = arguments.Text("--engine") ?? (onnx is null ? "torch" : "onnxruntime");
        if (engine == "torch")
        {
            foreach (var option in new[] { "--threads", "--graph-optimization", "--onnx" })
                if (arguments.Has(option)) throw new UsageException($"{option} is an ONNX Runtime option; add --engine onnxruntime");
            return new TorchInferenceEngine(network);
        }
        if (engine != "onnxruntime") throw new UsageException($"--engine '{engine}': expected torch or onnxruntime");
        if (arguments.Text("--precision") is "bf16") throw new UsageException("--precision bf16 is a TorchSharp setting; the ONNX Runtime engine runs the float32 export");
        var threads = arguments.Int("--threads") ?? 0;
        if (threads < 0) throw new UsageException($"--threads: {threads} is not a positive number of threads");
        var level = arguments.Text("--graph-optimization") switch
        {
            null or "all" => OnnxGraphOptimization.All,
            "none" => OnnxGraphOptimization.None,
            "basic" => OnnxGraphOptimization.Basic,
            "extended" => OnnxGraphOptimization.Extended,
            var other => throw new UsageException($"--graph-optimization '{other}': expected none, basic, extended or all"),
        };
        var runtime = new OnnxRuntimeOptions(threads, level);
        return onnx is null ? OnnxRuntimeEngine.ForNetwork(network, runtime) : OnnxRuntimeEngine.ForModelFile(onnx, (ISegmentationNetwork)network, runtime);
    }

    private static WeightsLayout Layout(ParsedArguments arguments) => arguments.Text("--layout") switch
    {
        null or "auto" => WeightsLayout.Auto,
        "native" => WeightsLayout.Native,
        "torchvision" => WeightsLayout.TorchVisionResNet,
        "deep-stem" => WeightsLayout.DeepStemResNet,
        "mmseg" => WeightsLayout.MMSeg,
        "authors" => WeightsLayout.Authors,
        var other => throw new UsageException($"--layout '{other}': expected auto, native, torchvision, deep-stem, mmseg or authors"),
    };

    private static double[] ParseScales(string text)
    {
        try
        {
            var scales = text.Split(',').Select(s => double.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            if (scales.Any(s => !(s > 0))) throw new FormatException();
            return scales;
        }
        catch (FormatException)
        {
            throw new UsageException($"--scales '{text}': expected positive numbers separated by commas, e.g. 0.5,0.75,1,1.25,1.5,1.75");
        }
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
