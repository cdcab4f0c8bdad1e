namespace EMANet.Runtime.IO;

/// <summary>
/// A weights, checkpoint or array file is malformed or unsupported. The message starts with the
/// file (as the caller named it) and then names the defect, e.g.
/// <c>model.safetensors: tensor 'fc.weight': data_offsets [0, 12] span 12 bytes but F32 [2, 2] needs 16</c>.
/// Readers throw only this type for defects of the file's content; I/O failures of the file system
/// (file not found, access denied) keep their own types.
/// </summary>
public sealed class WeightsFormatException : Exception
{
    public WeightsFormatException(string file, string defect, Exception? inner = null)
        : base($"{file}: {defect}", inner)
    {
        FileName = file;
        Defect = defect;
    }

    /// <summary>The file as the caller named it.</summary>
    public string FileName { get; }

    /// <summary>What is wrong with it.</summary>
    public string Defect { get; }
}
