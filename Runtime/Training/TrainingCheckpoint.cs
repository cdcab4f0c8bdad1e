using EMANet.Runtime.IO;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EMANet.Runtime.Training;

/// <summary>
/// Everything needed to continue a run exactly where it stopped, in one file: a zip archive
/// (stored, not compressed) with
/// <list type="bullet">
/// <item><c>manifest.json</c>: format name and version, the iteration, the RNG scheme and a SHA-256 of every other entry;</item>
/// <item><c>run.json</c>: the <see cref="RunConfiguration"/>;</item>
/// <item><c>model.bin</c>: the network's state dict (parameters and persistent buffers: BN statistics, EMA bases): an int32 count, then per entry its name and the tensor in TorchSharp's <c>Tensor.Save</c> format;</item>
/// <item><c>optimizer.bin</c>: the SGD state (group options and momentum buffers) in TorchSharp's format (named "SGD" also when written by <see cref="FlatSgd"/>);</item>
/// <item><c>history.csv</c>: the loss, lr and mIoU curves so far.</item>
/// </list>
/// There is no RNG state to store beyond the seed and the iteration: the trainer re-seeds torch's
/// generator from (seed, iteration) before every step, and batch sources are addressed by iteration.
/// Files are written atomically; loading checks the format and every hash and fails with a
/// <see cref="CheckpointException"/> naming the file.
/// </summary>
public sealed class TrainingCheckpoint
{
    public const string FormatName = "emanet-training-checkpoint";
    public const int FormatVersion = 1;
    public const string FileExtension = ".ckpt";

    private const string ManifestEntry = "manifest.json";
    private const string RunEntry = "run.json";
    private const string ModelEntry = "model.bin";
    private const string OptimizerEntry = "optimizer.bin";
    private const string HistoryEntry = "history.csv";

    private readonly byte[] _model;
    private readonly byte[] _optimizer;

    private TrainingCheckpoint(string path, int iteration, RunConfiguration run, TrainingHistory history, byte[] model, byte[] optimizer)
    {
        Path = path;
        Iteration = iteration;
        Run = run;
        History = history;
        _model = model;
        _optimizer = optimizer;
    }

    /// <summary>The file this checkpoint was read from.</summary>
    public string Path { get; }

    /// <summary>Completed iterations: training resumes with iteration index <see cref="Iteration"/> (0-based).</summary>
    public int Iteration { get; }

    public RunConfiguration Run { get; }

    public TrainingHistory History { get; }

    /// <summary>Writes a checkpoint atomically (temporary file in the same folder, flush, rename over <paramref name="path"/>).</summary>
    public static void Save(string path, int iteration, RunConfiguration run, nn.Module model, OptimizerHelper optimizer, TrainingHistory history)
    {
        var entries = new List<(string Name, byte[] Content)>
        {
            (RunEntry, Encoding.UTF8.GetBytes(run.ToJson())),
            (ModelEntry, Serialize(writer => WriteStateDict(writer, model))),
            // FlatSgd hides (non-virtual) save_state_dict to write SGD's name, so either optimizer reads the entry.
            (OptimizerEntry, Serialize(optimizer is FlatSgd flat ? flat.save_state_dict : optimizer.save_state_dict)),
            (HistoryEntry, Encoding.UTF8.GetBytes(history.ToCsv())),
        };
        var manifest = new Manifest
        {
            Format = FormatName,
            Version = FormatVersion,
            Iteration = iteration,
            Network = run.Network,
            Rng = $"torch.manual_seed(StepSeed(seed {run.Training.Seed}, iteration)) before every step; batches addressed by iteration",
            CreatedUtc = DateTime.UtcNow.ToString("O"),
            Sha256 = entries.ToDictionary(e => e.Name, e => Convert.ToHexStringLower(SHA256.HashData(e.Content))),
        };
        entries.Insert(0, (ManifestEntry, JsonSerializer.SerializeToUtf8Bytes(manifest, ManifestJson)));

        AtomicFile.Write(path, stream =>
        {
            using var archive = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            foreach (var (name, content) in entries)
            {
                var entry = archive.CreateEntry(name, CompressionLevel.NoCompression);
                using var entryStream = entry.Open();
                entryStream.Write(content);
            }
        });
    }

    /// <summary>Reads and validates a checkpoint (format, version, hashes, run configuration, history). Tensors are applied later by <see cref="RestoreModel"/> and <see cref="RestoreOptimizer"/>.</summary>
    public static TrainingCheckpoint Load(string path)
    {
        if (!File.Exists(path)) throw new CheckpointException(path, "file not found");
        Dictionary<string, byte[]> entries;
        try
        {
            using var archive = ZipFile.OpenRead(path);
            entries = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var entry in archive.Entries)
            {
                using var input = entry.Open();
                using var buffer = new MemoryStream();
                input.CopyTo(buffer);
                entries[entry.FullName] = buffer.ToArray();
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException(path, $"not a readable checkpoint archive (truncated or corrupt?): {e.Message}", e);
        }

        byte[] Entry(string name) => entries.TryGetValue(name, out var content)
            ? content
            : throw new CheckpointException(path, $"the entry '{name}' is missing");

        Manifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<Manifest>(Entry(ManifestEntry), ManifestJson) ?? throw new JsonException("null manifest");
        }
        catch (JsonException e)
        {
            throw new CheckpointException(path, $"the manifest is not valid: {e.Message}", e);
        }
        if (manifest.Format != FormatName) throw new CheckpointException(path, $"not an EMANet training checkpoint (format '{manifest.Format}')");
        if (manifest.Version != FormatVersion) throw new CheckpointException(path, $"checkpoint format version {manifest.Version} is not supported (this build reads {FormatVersion})");
        foreach (var name in new[] { RunEntry, ModelEntry, OptimizerEntry, HistoryEntry })
        {
            var content = Entry(name);
            if (manifest.Sha256 is null || !manifest.Sha256.TryGetValue(name, out var expected))
                throw new CheckpointException(path, $"the manifest has no hash for '{name}'");
            var actual = Convert.ToHexStringLower(SHA256.HashData(content));
            if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
                throw new CheckpointException(path, $"'{name}' is corrupt (SHA-256 {actual}, the manifest says {expected})");
        }

        RunConfiguration run;
        TrainingHistory history;
        try
        {
            run = RunConfiguration.FromJson(Encoding.UTF8.GetString(Entry(RunEntry)), $"{path}:{RunEntry}");
            history = TrainingHistory.FromCsv(Encoding.UTF8.GetString(Entry(HistoryEntry)));
        }
        catch (FormatException e)
        {
            throw new CheckpointException(path, e.Message, e);
        }
        if (manifest.Iteration < 0 || manifest.Iteration > run.Training.Iterations)
            throw new CheckpointException(path, $"iteration {manifest.Iteration} is outside the run's 0..{run.Training.Iterations}");
        return new TrainingCheckpoint(path, manifest.Iteration, run, history, Entry(ModelEntry), Entry(OptimizerEntry));
    }

    /// <summary>Copies the saved parameters and buffers into <paramref name="model"/> in place (any device); keys, dtypes and shapes must match exactly.</summary>
    public void RestoreModel(nn.Module model)
    {
        var target = model.state_dict();
        using var reader = new BinaryReader(new MemoryStream(_model, writable: false));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            var count = reader.ReadInt32();
            if (count < 0) throw new CheckpointException(Path, $"the model state has a negative entry count ({count})");
            for (var i = 0; i < count; i++)
            {
                var key = reader.ReadString();
                if (!target.TryGetValue(key, out var tensor))
                    throw new CheckpointException(Path, $"the model has no parameter or buffer '{key}' (a checkpoint of another network?)");
                try
                {
                    TensorExtensionMethods.Load(tensor, reader);
                }
                catch (ArgumentException e)
                {
                    throw new CheckpointException(Path, $"'{key}' does not fit the model ({tensor.dtype} {Shape(tensor)}): {e.Message}", e);
                }
                seen.Add(key);
            }
        }
        catch (EndOfStreamException e)
        {
            throw new CheckpointException(Path, "the model state ends early", e);
        }
        var missing = target.Keys.Where(k => !seen.Contains(k)).ToArray();
        if (missing.Length > 0)
            throw new CheckpointException(Path, $"the model state lacks {missing.Length} entries of the network, e.g. '{missing[0]}'");
    }

    /// <summary>Restores the optimizer's group options and momentum buffers (onto each parameter's device). Call outside any dispose scope.</summary>
    public void RestoreOptimizer(OptimizerHelper optimizer)
    {
        using var reader = new BinaryReader(new MemoryStream(_optimizer, writable: false));
        try
        {
            // FlatSgd's loader accepts state saved by SGD or FlatSgd and copies momentum into its flat buffers.
            if (optimizer is FlatSgd flat) flat.load_state_dict(reader);
            else optimizer.load_state_dict(reader);
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or EndOfStreamException)
        {
            throw new CheckpointException(Path, $"the optimizer state does not fit: {e.Message}", e);
        }
    }

    // The model section: entry count (int32), then per entry its name and the tensor in TorchSharp's Tensor.Save format.
    private static void WriteStateDict(BinaryWriter writer, nn.Module model)
    {
        var state = model.state_dict();
        writer.Write(state.Count);
        foreach (var (key, tensor) in state)
        {
            writer.Write(key);
            TensorExtensionMethods.Save(tensor, writer);
        }
    }

    private static string Shape(Tensor tensor) => "[" + string.Join(", ", tensor.shape) + "]";

    private static byte[] Serialize(Action<BinaryWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            write(writer);
            writer.Flush();
        }
        return buffer.ToArray();
    }

    private static readonly JsonSerializerOptions ManifestJson = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
    };

    private sealed class Manifest
    {
        public string? Format { get; set; }
        public int Version { get; set; }
        public int Iteration { get; set; }
        public string? Network { get; set; }
        public string? Rng { get; set; }
        public string? CreatedUtc { get; set; }
        public Dictionary<string, string>? Sha256 { get; set; }
    }
}
