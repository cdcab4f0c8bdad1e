using static TorchSharp.torch;

namespace EMANet.Runtime.Networks;

/// <summary>
/// Element types of a training forward. TorchSharp has no autocast, so the generated networks
/// route the precision themselves (<see cref="ISegmentationNetwork.SetTrainingPrecision"/>).
/// </summary>
public enum TrainingPrecision
{
    /// <summary>float32 throughout (the default).</summary>
    Float32,

    /// <summary>
    /// Mixed precision as PyTorch's CPU autocast does it: in training-mode forwards every convolution
    /// computes in bfloat16 on bf16 casts of its input and its float32 master weights and hands its
    /// bf16 result on, so the activations between convolutions (batch norm with float32 parameters
    /// and statistics, ReLU, pooling, residual adds, concatenation, upsampling) stay bfloat16 and
    /// are kept for backward at half the size, as under autocast. The EM iterations run on those bf16
    /// features in bf16 (autocast runs bmm in bf16) with the float32 bases cast to it, the loss is computed
    /// on float32 logits, and the parameters, their gradients, the bases and the optimizer stay float32. bf16 has float32's exponent range, so no loss scaling is needed.
    /// Evaluation-mode forwards (validation, prediction) compute in float32, as mmengine's validation
    /// loop does by default after AMP training.
    /// </summary>
    BFloat16Mixed,
}

/// <summary>Names and element types of <see cref="TrainingPrecision"/>.</summary>
public static class TrainingPrecisions
{
    /// <summary>Reads the names the CLI and run.json use: "fp32" and "bf16-mixed" (PyTorch Lightning's name for the same mode).</summary>
    public static bool TryParse(string name, out TrainingPrecision precision)
    {
        (bool known, precision) = name switch
        {
            "fp32" => (true, TrainingPrecision.Float32),
            "bf16-mixed" => (true, TrainingPrecision.BFloat16Mixed),
            _ => (false, TrainingPrecision.Float32),
        };
        return known;
    }

    /// <summary>Parses "fp32" or "bf16-mixed"; the error names the value and the accepted ones.</summary>
    public static TrainingPrecision Parse(string name) =>
        TryParse(name, out var precision) ? precision : throw new ArgumentException($"training precision '{name}' is not known; use fp32 or bf16-mixed");

    /// <summary>The element type convolutions compute in; null for "the weights' own type".</summary>
    public static ScalarType? ConvolutionDtype(this TrainingPrecision precision) => precision switch
    {
        TrainingPrecision.Float32 => null,
        TrainingPrecision.BFloat16Mixed => ScalarType.BFloat16,
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, null),
    };
}
