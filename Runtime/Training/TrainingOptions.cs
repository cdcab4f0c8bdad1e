using EMANet.Runtime.IO;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace EMANet.Runtime.Training;

/// <summary>
/// Every hyper-parameter of a training run. Defaults are the EMANet recipe (EMANET.md section 3,
/// the authors' settings.py): batch 16, SGD momentum 0.9, lr 0.009 with polynomial decay (power
/// 0.9) over 30,000 iterations, weight decay 1e-4 on convolution weights only, twice the lr and no
/// decay for biases, no decay for BN weights, BN momentum 3e-4, labels 255 ignored, the loss divided by
/// every pixel of the batch (<see cref="LossAverage.All"/>, the authors' train.py).
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>Optimizer steps of the whole run (the poly schedule reaches 0 there).</summary>
    public int Iterations { get; init; } = 30_000;

    /// <summary>Images per step. The trainer does not build batches: it records this and checks every batch against it.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Base learning rate of convolution and BN weights.</summary>
    public double LearningRate { get; init; } = 0.009;

    /// <summary>SGD momentum (PyTorch semantics: buf = m * buf + grad; first step buf = grad).</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>L2 weight decay, applied to convolution (and any other non-BN) weights only.</summary>
    public double WeightDecay { get; init; } = 1e-4;

    /// <summary>Biases (of convolutions and BN) train at this multiple of the learning rate, without decay.</summary>
    public double BiasLearningRateMultiplier { get; init; } = 2.0;

    /// <summary>Power of the polynomial decay: lr(it) = base * (1 - it / Iterations)^power.</summary>
    public double PolyPower { get; init; } = 0.9;

    /// <summary>The lr is recomputed every this many iterations (the authors: 10; 1 = every step, as PyTorch's PolynomialLR).</summary>
    public int PolyUpdateInterval { get; init; } = 10;

    /// <summary>Label value that the loss ignores (VOC's boundary/void label).</summary>
    public int IgnoreIndex { get; init; } = 255;

    /// <summary>
    /// What the cross-entropy (main and auxiliary) is divided by: every pixel of the batch (<see cref="LossAverage.All"/>,
    /// the default: the authors' and mmsegmentation's) or the labelled pixels only (<see cref="LossAverage.Labelled"/>,
    /// PyTorch's reduction 'mean'). A run configuration written before this setting existed reads as Labelled.
    /// </summary>
    public LossAverage LossAverage { get; init; } = LossAverage.All;

    /// <summary>Weight of the auxiliary head's cross-entropy, when the network has one.</summary>
    public double AuxiliaryLossWeight { get; init; } = 0.4;

    /// <summary>Momentum set on every BatchNorm before training (the authors: 3e-4); null keeps the network's own (PyTorch's 0.1).</summary>
    public double? BatchNormMomentum { get; init; } = 3e-4;

    /// <summary>Seed of initialisation-independent randomness: torch's generator is re-seeded from (seed, iteration) before every step.</summary>
    public long Seed { get; init; } = 66;

    /// <summary>The checkpoint interval used when <see cref="CheckpointInterval"/> is null, before the cap at a tenth of the run.</summary>
    public const int DefaultCheckpointInterval = 2_000;

    /// <summary>
    /// A checkpoint every this many iterations; 0 = none by iteration count; null (the default) =
    /// <see cref="EffectiveCheckpointInterval"/>: min(2000, a tenth of the run), so a short run is never
    /// left without one. Independently of this, the trainer also checkpoints after every validation,
    /// every <see cref="CheckpointMinutes"/> of wall time, at the end and when it is stopped.
    /// Not part of the recipe: a resume may change it.
    /// </summary>
    public int? CheckpointInterval { get; init; }

    /// <summary>The iteration interval the trainer applies: <see cref="CheckpointInterval"/>, or min(2000, max(1, Iterations / 10)) when it is null.</summary>
    [JsonIgnore]
    public int EffectiveCheckpointInterval => CheckpointInterval ?? Math.Min(DefaultCheckpointInterval, Math.Max(1, Iterations / 10));

    /// <summary>
    /// A checkpoint at the first step that ends at least this many minutes (wall time, training and
    /// validation) after the previous checkpoint or the start; 0 = never by time. Bounds the work a
    /// crash or kill can lose whatever the speed of the machine. Not part of the recipe.
    /// </summary>
    public double CheckpointMinutes { get; init; } = 5;

    /// <summary>Validation every this many iterations (and at the end) when an evaluation callback is given; 0 = only at the end.</summary>
    public int EvaluationInterval { get; init; } = 2_000;

    /// <summary>Redirected output prints a progress line every this many iterations.</summary>
    public int LogInterval { get; init; } = 20;

    /// <summary>"auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:N".</summary>
    public string Device { get; init; } = "auto";

    /// <summary>
    /// "fp32", or "bf16-mixed": convolutions in bfloat16 on casts of float32 master weights, the
    /// activations and the EM iterations in bfloat16, the loss in float32 (see <see cref="Networks.TrainingPrecision"/>).
    /// Like the device, not part of the recipe: a run may resume in another precision.
    /// </summary>
    public string Precision { get; init; } = "fp32";

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public TrainingOptions Validate()
    {
        Require(Iterations > 0, nameof(Iterations), Iterations, "must be positive");
        Require(BatchSize > 0, nameof(BatchSize), BatchSize, "must be positive");
        Require(LearningRate > 0 && double.IsFinite(LearningRate), nameof(LearningRate), LearningRate, "must be a positive number");
        Require(Momentum is >= 0 and < 1, nameof(Momentum), Momentum, "must be in [0, 1)");
        Require(WeightDecay >= 0 && double.IsFinite(WeightDecay), nameof(WeightDecay), WeightDecay, "must be >= 0");
        Require(BiasLearningRateMultiplier >= 0 && double.IsFinite(BiasLearningRateMultiplier), nameof(BiasLearningRateMultiplier), BiasLearningRateMultiplier, "must be >= 0");
        Require(PolyPower >= 0 && double.IsFinite(PolyPower), nameof(PolyPower), PolyPower, "must be >= 0");
        Require(PolyUpdateInterval > 0, nameof(PolyUpdateInterval), PolyUpdateInterval, "must be positive");
        Require(Enum.IsDefined(LossAverage), nameof(LossAverage), LossAverage, "must be all or labelled");
        Require(AuxiliaryLossWeight >= 0 && double.IsFinite(AuxiliaryLossWeight), nameof(AuxiliaryLossWeight), AuxiliaryLossWeight, "must be >= 0");
        Require(BatchNormMomentum is null or (> 0 and <= 1), nameof(BatchNormMomentum), BatchNormMomentum, "must be in (0, 1] or null");
        Require(CheckpointInterval is null or >= 0, nameof(CheckpointInterval), CheckpointInterval, "must be >= 0");
        Require(CheckpointMinutes >= 0 && double.IsFinite(CheckpointMinutes), nameof(CheckpointMinutes), CheckpointMinutes, "must be >= 0");
        Require(EvaluationInterval >= 0, nameof(EvaluationInterval), EvaluationInterval, "must be >= 0");
        Require(LogInterval > 0, nameof(LogInterval), LogInterval, "must be positive");
        TrainingDevice.Parse(Device);
        Require(Networks.TrainingPrecisions.TryParse(Precision, out _), nameof(Precision), Precision, "must be fp32 or bf16-mixed");
        return this;
    }

    /// <summary>The settings that change the numbers a run produces (everything but intervals, logging, device and precision), by name, where they differ.</summary>
    public IReadOnlyList<string> RecipeDifferences(TrainingOptions other)
    {
        var differences = new List<string>();
        void Compare<T>(string name, T mine, T theirs)
        {
            if (!EqualityComparer<T>.Default.Equals(mine, theirs)) differences.Add($"{name} {theirs} -> {mine}");
        }
        Compare(nameof(Iterations), Iterations, other.Iterations);
        Compare(nameof(BatchSize), BatchSize, other.BatchSize);
        Compare(nameof(LearningRate), LearningRate, other.LearningRate);
        Compare(nameof(Momentum), Momentum, other.Momentum);
        Compare(nameof(WeightDecay), WeightDecay, other.WeightDecay);
        Compare(nameof(BiasLearningRateMultiplier), BiasLearningRateMultiplier, other.BiasLearningRateMultiplier);
        Compare(nameof(PolyPower), PolyPower, other.PolyPower);
        Compare(nameof(PolyUpdateInterval), PolyUpdateInterval, other.PolyUpdateInterval);
        Compare(nameof(IgnoreIndex), IgnoreIndex, other.IgnoreIndex);
        Compare(nameof(LossAverage), LossAverage, other.LossAverage);
        Compare(nameof(AuxiliaryLossWeight), AuxiliaryLossWeight, other.AuxiliaryLossWeight);
        Compare(nameof(BatchNormMomentum), BatchNormMomentum, other.BatchNormMomentum);
        Compare(nameof(Seed), Seed, other.Seed);
        return differences;
    }

    private static void Require(bool condition, string name, object? value, string rule)
    {
        if (!condition) throw new ArgumentException($"training option {name} = {value?.ToString() ?? "null"} {rule}");
    }
}

/// <summary>
/// The configuration of one run as saved next to its outputs (run.json) and inside every
/// checkpoint: which network at which size, on which data, with which hyper-parameters.
/// </summary>
public sealed record RunConfiguration
{
    public const int CurrentFormatVersion = 1;

    public int FormatVersion { get; init; } = CurrentFormatVersion;

    /// <summary>Catalogue name of the network (e.g. "emanet-r101").</summary>
    public required string Network { get; init; }

    public required int Classes { get; init; }

    /// <summary>Input shape "CxHxW" the network was built for.</summary>
    public required string Input { get; init; }

    /// <summary>What the batches came from, as the batch source describes itself.</summary>
    public string Data { get; init; } = "";

    public required TrainingOptions Training { get; init; }

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        NumberHandling = JsonNumberHandling.Strict,
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Parses and validates; errors name <paramref name="source"/>.</summary>
    public static RunConfiguration FromJson(string json, string source = "run configuration")
    {
        RunConfiguration? configuration;
        try
        {
            configuration = JsonSerializer.Deserialize<RunConfiguration>(json, JsonOptions);
        }
        catch (JsonException e)
        {
            throw new FormatException($"{source}: not a valid run configuration: {e.Message}", e);
        }
        if (configuration is null) throw new FormatException($"{source}: not a valid run configuration: null");
        if (!NamesLossAverage(json))
            // Written before the setting existed, when the loss was always averaged over the labelled pixels.
            configuration = configuration with { Training = configuration.Training with { LossAverage = LossAverage.Labelled } };
        if (configuration.FormatVersion != CurrentFormatVersion)
            throw new FormatException($"{source}: run configuration format {configuration.FormatVersion} is not supported (this build reads {CurrentFormatVersion})");
        try
        {
            configuration.Training.Validate();
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"{source}: {e.Message}", e);
        }
        return configuration;
    }

    /// <summary>Whether the "training" object of <paramref name="json"/> (already parsed once) has a "lossAverage" member.</summary>
    private static bool NamesLossAverage(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.TryGetProperty("training", out var training)
            && training.ValueKind == JsonValueKind.Object
            && training.TryGetProperty("lossAverage", out _);
    }

    /// <summary>Writes the JSON atomically (temp file in the same folder, then a rename).</summary>
    public void Save(string path) => AtomicFile.WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(ToJson()));

    public static RunConfiguration Load(string path) => FromJson(File.ReadAllText(path), path);
}
