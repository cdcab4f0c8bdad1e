using TorchSharp;
using static TorchSharp.torch;

namespace EMANet.Runtime.IO;

/// <summary>
/// Copies a checkpoint's tensors into a module's parameters and buffers, like PyTorch's
/// load_state_dict, with key mapping (<see cref="WeightsLayout"/>) and a report of what did not fit.
/// <para>
/// num_batches_tracked: PyTorch's BatchNorm keeps it in its state dict, and so does TorchSharp's
/// BatchNorm2d. When both sides have it, it is copied; when only the module has it, it is left as
/// it was and listed in <see cref="LoadReport.Defaulted"/> (PyTorch does the same for checkpoints from
/// before the buffer existed); when only the checkpoint has it, it is listed in <see cref="LoadReport.Ignored"/>.
/// None of these counts as a problem.
/// </para>
/// </summary>
public static class StateDictLoader
{
    public const string NumBatchesTracked = "num_batches_tracked";

    /// <summary>
    /// Loads <paramref name="source"/> into <paramref name="module"/>: each module key that a (mapped)
    /// checkpoint key matches with the same shape is overwritten in place, converted to the module's
    /// dtype and device, without gradient tracking. With <paramref name="strict"/>, any missing,
    /// unexpected or mismatched key throws <see cref="StateDictLoadException"/> listing them all and
    /// nothing is copied; otherwise the matching keys are copied and the report lists the rest.
    /// For the backbone layouts only module keys under <paramref name="backbonePrefix"/> are expected
    /// (the rest are <see cref="LoadReport.NotCovered"/>).
    /// </summary>
    public static LoadReport Load(nn.Module module, IReadOnlyDictionary<string, Tensor> source, WeightsLayout layout = WeightsLayout.Auto,
        bool strict = true, string backbonePrefix = KeyMapping.DefaultBackbonePrefix)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(source);
        var targets = module.state_dict();
        var mapping = KeyMapping.Create(layout, source.Keys.ToList(), backbonePrefix);

        var loaded = new List<string>();
        var missing = new List<string>();
        var unexpected = new List<string>();
        var mismatched = new List<ShapeMismatch>();
        var ignored = new List<string>();
        var defaulted = new List<string>();
        var notCovered = new List<string>();

        var mapped = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, tensor) in source)
        {
            var target = mapping.Map(key);
            if (target is null) ignored.Add(key);
            else if (!targets.ContainsKey(target)) (IsNumBatchesTracked(target) ? ignored : unexpected).Add(key);
            else if (!mapped.TryAdd(target, tensor)) unexpected.Add(key);
        }

        var copies = new List<(Tensor Target, Tensor Source)>();
        foreach (var (name, target) in targets)
        {
            if (!mapping.Covers(name)) { notCovered.Add(name); continue; }
            if (!mapped.TryGetValue(name, out var value))
            {
                (IsNumBatchesTracked(name) ? defaulted : missing).Add(name);
                continue;
            }
            bool sameShape = target.shape.SequenceEqual(value.shape);
            // A scalar counter saved as [] on one side and [1] on the other is the same thing.
            bool counter = IsNumBatchesTracked(name) && target.numel() == 1 && value.numel() == 1;
            if (!sameShape && !counter)
            {
                mismatched.Add(new ShapeMismatch(name, target.shape, value.shape));
                continue;
            }
            copies.Add((target, value));
            loaded.Add(name);
        }

        var report = new LoadReport(mapping, loaded, missing, unexpected, mismatched, ignored, defaulted, notCovered);
        if (strict && !report.IsComplete) throw new StateDictLoadException(report);

        using (no_grad())
        {
            foreach (var (target, value) in copies)
            {
                using var scope = NewDisposeScope();
                target.copy_(value.reshape(target.shape));
            }
        }
        return report;
    }

    private static bool IsNumBatchesTracked(string key) =>
        key == NumBatchesTracked || key.EndsWith("." + NumBatchesTracked, StringComparison.Ordinal);
}
