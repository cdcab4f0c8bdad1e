using static TorchSharp.torch;

namespace EMANet.Runtime.IO;

/// <summary>
/// One entry point for weight files: <see cref="Read"/> recognises safetensors and PyTorch (.pth/.pt,
/// zip format) by content; <see cref="Write"/> writes safetensors, atomically.
/// </summary>
public static class WeightsFile
{
    /// <summary>
    /// The file's tensors, on the CPU, in file order. Throws <see cref="WeightsFormatException"/> for a
    /// malformed file and for formats this reader does not take (legacy pickles, NumPy arrays, anything else).
    /// </summary>
    public static TensorDictionary Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return WeightsFormatDetector.Detect(path) switch
        {
            WeightsFormat.Safetensors => SafetensorsReader.Read(path),
            WeightsFormat.PyTorchZip => PyTorchCheckpointReader.Read(path),
            WeightsFormat.PyTorchLegacy => throw new WeightsFormatException(path,
                "a legacy (pre-1.6, non-zip) PyTorch file, which is not supported: re-save it with torch.save(obj, path) from PyTorch 1.6 or later"),
            WeightsFormat.Npy => throw new WeightsFormatException(path, "a NumPy array, not a weights file (read it with NpyFile.Read)"),
            _ => throw new WeightsFormatException(path, "neither a safetensors file nor a PyTorch zip checkpoint"),
        };
    }

    /// <summary>Writes the tensors as safetensors, atomically (see <see cref="AtomicFile"/>).</summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        SafetensorsWriter.Write(path, tensors, metadata);
}
