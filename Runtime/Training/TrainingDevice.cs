using TorchSharp;
using static TorchSharp.torch;

namespace EMANet.Runtime.Training;

/// <summary>Resolves the device option: "auto" (CUDA when torch sees one, else CPU), "cpu", "cuda" or "cuda:N".</summary>
public static class TrainingDevice
{
    public static Device Resolve(string option)
    {
        var (type, index) = Parse(option);
        if (type is null) return TorchSharp.torch.cuda.is_available() ? CUDA : CPU;
        if (type == DeviceType.CUDA && !TorchSharp.torch.cuda.is_available())
            throw new InvalidOperationException($"device '{option}' was asked for, but torch sees no CUDA device (this TorchSharp build may be CPU-only)");
        return new Device(type.Value, index);
    }

    /// <summary>(null, -1) for "auto".</summary>
    public static (DeviceType? Type, int Index) Parse(string option)
    {
        var text = option.Trim().ToLowerInvariant();
        if (text is "auto" or "") return (null, -1);
        if (text == "cpu") return (DeviceType.CPU, -1);
        if (text == "cuda") return (DeviceType.CUDA, -1);
        if (text.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(text.AsSpan(5), out var index) && index >= 0)
            return (DeviceType.CUDA, index);
        throw new ArgumentException($"device '{option}' is not one of auto, cpu, cuda, cuda:N");
    }
}
