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
    /// Mixed precision as PyTorch's CPU/CUDA autocast does it for convolutions: every convolution
    /// casts its input and its float32 master weights to bfloat16, computes in bf16 and hands a
    /// float32 result on; batch norm, the EM iterations, pooling, upsampling, the loss, the
    /// gradients of the weights and the optimizer stay float32. bf16 has float32's exponent range,
    /// so no loss scaling is needed.
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
