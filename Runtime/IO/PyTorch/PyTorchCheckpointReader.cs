using static TorchSharp.torch;

namespace EMANet.Runtime.IO;

/// <summary>
/// Reads PyTorch checkpoints written by torch.save in the zip format (PyTorch 1.6 and later) without
/// executing anything: a restricted unpickler (<see cref="RestrictedUnpickler"/>) that interprets only
/// the globals of a state dict and turns any other global into an inert placeholder (never imported,
/// called or constructed), then the tensors rebuilt from their storage records with storage offset,
/// size and stride (views come out as contiguous copies). Placeholders outside the state dict (an
/// mmengine checkpoint's numpy <c>meta</c> values, its <c>message_hub</c> objects) are skipped; one
/// inside it is a <see cref="WeightsFormatException"/> naming its key path. Where the checkpoint wraps the state
/// dict (<c>{"state_dict": ..., "epoch": ...}</c>) the tensors are found as <see cref="StateDictSelector"/>
/// documents; the result's metadata then says <c>state_dict_path</c> (the wrapper keys taken) and
/// <c>skipped</c> (non-tensor entries left out, comma-separated).
/// </summary>
public static class PyTorchCheckpointReader
{
    public const string StateDictPathKey = "state_dict_path";
    public const string SkippedKey = "skipped";

    private const long MinimumViewLimit = 64L << 20;

    public static TensorDictionary Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Read(stream, path);
    }

    /// <summary>Reads from a seekable stream; <paramref name="file"/> names it in errors.</summary>
    public static TensorDictionary Read(Stream stream, string file)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek) throw new ArgumentException("the stream must be seekable", nameof(stream));
        using var archive = PyTorchArchive.Open(stream, file);

        bool littleEndian = ReadByteOrder(archive, file);
        var pickle = archive.ReadRecord("data.pkl");
        var (root, _) = RestrictedUnpickler.Load(pickle, file, $"{archive.Prefix}/data.pkl");
        var selection = StateDictSelector.Select(root, file);

        var storages = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var result = new TensorDictionary();
        try
        {
            foreach (var (name, reference) in selection.Tensors)
                result.Add(name, Materialize(archive, reference, name, littleEndian, storages, file));
            result.SetMetadata(new Dictionary<string, string>
            {
                ["format"] = "pt",
                [StateDictPathKey] = selection.Path,
                [SkippedKey] = string.Join(",", selection.Skipped),
            });
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
        finally
        {
            foreach (var storage in storages.Values) storage.Dispose();
        }
    }

    private static bool ReadByteOrder(PyTorchArchive archive, string file)
    {
        // Written since PyTorch 1.10 or so; older archives are little-endian.
        if (!archive.HasRecord("byteorder")) return true;
        var text = System.Text.Encoding.ASCII.GetString(archive.ReadRecord("byteorder")).Trim();
        return text switch
        {
            "little" => true,
            "big" => false,
            _ => throw new WeightsFormatException(file, $"record '{archive.Prefix}/byteorder' says '{(text.Length > 20 ? text[..20] : text)}', not 'little' or 'big'"),
        };
    }

    private static Tensor Materialize(PyTorchArchive archive, TensorRef reference, string name, bool littleEndian, Dictionary<string, Tensor> storages, string file)
    {
        var storage = reference.Storage;
        long elements = TensorBytes.ElementCount(reference.Size)
            ?? throw new WeightsFormatException(file, $"tensor '{name}': size {SafetensorsHeader.Show(reference.Size)} has more than 2^63 elements");

        if (elements > 0)
        {
            // The last element the view touches must lie inside the storage.
            long last = reference.Offset;
            try
            {
                for (int i = 0; i < reference.Size.Length; i++)
                    last = checked(last + (reference.Size[i] - 1) * reference.Stride[i]);
            }
            catch (OverflowException)
            {
                last = long.MaxValue;
            }
            if (last >= storage.Elements)
                throw new WeightsFormatException(file, $"tensor '{name}': offset {reference.Offset}, size {SafetensorsHeader.Show(reference.Size)} and stride {SafetensorsHeader.Show(reference.Stride)} reach element {last} of storage '{storage.Key}', which has {storage.Elements}");
        }

        // Overlapping strides (an expanded view) can describe far more elements than the file holds;
        // the contiguous copy made here is capped by the file's size (with a floor for small files).
        long limit = Math.Max(archive.ArchiveLength, MinimumViewLimit);
        if (TensorBytes.ByteCount(elements, storage.Type) is not { } viewBytes || viewBytes > limit)
            throw new WeightsFormatException(file, $"tensor '{name}': size {SafetensorsHeader.Show(reference.Size)} with stride {SafetensorsHeader.Show(reference.Stride)} would take more than {limit} bytes (overlapping views this large are not supported)");

        if (!storages.TryGetValue(storage.Key, out var flat))
        {
            long bytes = TensorBytes.ByteCount(storage.Elements, storage.Type)
                ?? throw new WeightsFormatException(file, $"storage '{storage.Key}': {storage.Elements} elements are more than 2^63 bytes");
            var data = archive.ReadRecord($"data/{storage.Key}", bytes);
            flat = TensorBytes.ToTensor(data, storage.Type, new[] { storage.Elements }, littleEndian, out var bad)
                ?? throw new WeightsFormatException(file, $"storage '{storage.Key}': bool element {bad} is byte 0x{data[bad]:X2}, not 0 or 1");
            storages[storage.Key] = flat;
        }

        var result = empty(reference.Size, storage.Type);
        if (elements > 0)
        {
            using var view = flat.as_strided(reference.Size, reference.Stride, reference.Offset);
            result.copy_(view);
        }
        return result;
    }
}
