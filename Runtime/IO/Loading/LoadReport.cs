using System.Text;

namespace EMANet.Runtime.IO;

/// <summary>A module key whose tensor has another shape than the checkpoint's.</summary>
public sealed record ShapeMismatch(string Name, long[] Expected, long[] Got)
{
    public override string ToString() =>
        $"{Name}: the module has {SafetensorsHeader.Show(Expected)}, the checkpoint {SafetensorsHeader.Show(Got)}";
}

/// <summary>What <see cref="StateDictLoader.Load"/> did, in the spirit of PyTorch's load_state_dict result.</summary>
public sealed class LoadReport
{
    internal LoadReport(KeyMapping mapping, IReadOnlyList<string> loaded, IReadOnlyList<string> missing,
        IReadOnlyList<string> unexpected, IReadOnlyList<ShapeMismatch> shapeMismatched, IReadOnlyList<string> ignored,
        IReadOnlyList<string> defaulted, IReadOnlyList<string> notCovered)
    {
        Mapping = mapping;
        Loaded = loaded;
        Missing = missing;
        Unexpected = unexpected;
        ShapeMismatched = shapeMismatched;
        Ignored = ignored;
        Defaulted = defaulted;
        NotCovered = notCovered;
    }

    /// <summary>The layout and prefixes that were applied.</summary>
    public KeyMapping Mapping { get; }

    /// <summary>Module keys that received a value.</summary>
    public IReadOnlyList<string> Loaded { get; }

    /// <summary>Module keys (parameters and persistent buffers) the checkpoint has no value for.</summary>
    public IReadOnlyList<string> Missing { get; }

    /// <summary>Checkpoint keys (as written in the checkpoint) that match no module key.</summary>
    public IReadOnlyList<string> Unexpected { get; }

    /// <summary>Module keys whose checkpoint tensor has another shape (not loaded).</summary>
    public IReadOnlyList<ShapeMismatch> ShapeMismatched { get; }

    /// <summary>Checkpoint keys dropped on purpose: a ResNet checkpoint's fc.*, num_batches_tracked the module does not keep.</summary>
    public IReadOnlyList<string> Ignored { get; }

    /// <summary>Module num_batches_tracked buffers the checkpoint lacks (left as they were, as PyTorch does for old checkpoints).</summary>
    public IReadOnlyList<string> Defaulted { get; }

    /// <summary>Module keys outside a backbone-only layout's reach (the head, for a ResNet checkpoint); left as they were.</summary>
    public IReadOnlyList<string> NotCovered { get; }

    /// <summary>No missing, unexpected or mismatched keys.</summary>
    public bool IsComplete => Missing.Count == 0 && Unexpected.Count == 0 && ShapeMismatched.Count == 0;

    /// <summary>The problems, one per line (empty when <see cref="IsComplete"/>).</summary>
    public string DescribeProblems()
    {
        var sb = new StringBuilder();
        if (Missing.Count > 0) sb.AppendLine($"missing keys ({Missing.Count}): {string.Join(", ", Missing)}");
        if (Unexpected.Count > 0) sb.AppendLine($"unexpected keys ({Unexpected.Count}): {string.Join(", ", Unexpected)}");
        foreach (var m in ShapeMismatched) sb.AppendLine($"shape mismatch: {m}");
        return sb.ToString().TrimEnd();
    }

    public override string ToString() =>
        $"layout {Mapping.Layout}: loaded {Loaded.Count}, missing {Missing.Count}, unexpected {Unexpected.Count}, " +
        $"shape mismatches {ShapeMismatched.Count}, ignored {Ignored.Count}, defaulted {Defaulted.Count}, not covered {NotCovered.Count}";
}

/// <summary>A strict load found problems; nothing was copied. <see cref="Report"/> lists them all.</summary>
public sealed class StateDictLoadException(LoadReport report)
    : Exception($"the checkpoint does not fit the module ({report.Mapping.Description}):{Environment.NewLine}{report.DescribeProblems()}")
{
    public LoadReport Report { get; } = report;
}
