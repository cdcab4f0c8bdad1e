using System.Globalization;

namespace EMANet.Runtime.IO;

/// <summary>
/// Finds the tensors of a state dict inside whatever object a checkpoint holds.
/// <list type="number">
/// <item>The root must be a dict.</item>
/// <item>If it holds a tensor directly, the root is the state dict.</item>
/// <item>Otherwise, if it has one of the keys <see cref="WrapperKeys"/> (in that order) whose value is a dict
/// holding tensors, that dict is the state dict (and the rule applies again inside it, so
/// <c>{"model": {"state_dict": ...}}</c> works too); <see cref="Path"/> records the keys taken.</item>
/// <item>Otherwise the whole root is used.</item>
/// </list>
/// The chosen dict is flattened: nested dicts contribute "outer.inner" names (str keys as-is, int keys
/// in decimal), tensors are kept, and every other value (numbers, strings, lists) is skipped and
/// listed in <see cref="Skipped"/>. Two entries flattening to one name are a defect, as is nesting
/// deeper than <see cref="MaxDepth"/> (which also stops self-referencing dicts).
/// </summary>
internal sealed class StateDictSelector
{
    public static readonly string[] WrapperKeys = { "state_dict", "model_state_dict", "model", "net", "network", "module" };

    public const int MaxDepth = 32;

    private readonly string _file;

    private StateDictSelector(string file) => _file = file;

    /// <summary>The wrapper keys taken from the root, joined with '.'; empty when the root is the state dict.</summary>
    public string Path { get; private set; } = "";

    /// <summary>Entries that were not tensors, by flattened name.</summary>
    public List<string> Skipped { get; } = new();

    public List<KeyValuePair<string, TensorRef>> Tensors { get; } = new();

    public static StateDictSelector Select(object? root, string file)
    {
        var selector = new StateDictSelector(file);
        if (root is not PyDict dict) throw new WeightsFormatException(file, $"the checkpoint holds {Kind(root)}, not a dict of tensors");

        var path = new List<string>();
        while (!dict.Items.Any(p => p.Value is TensorRef) && path.Count < MaxDepth)
        {
            PyDict? inner = null;
            foreach (var key in WrapperKeys)
            {
                if (dict.TryGet(key, out var value) && value is PyDict candidate && HoldsTensors(candidate, 0))
                {
                    inner = candidate;
                    path.Add(key);
                    break;
                }
            }
            if (inner is null) break;
            dict = inner;
        }
        selector.Path = string.Join('.', path);

        var names = new HashSet<string>(StringComparer.Ordinal);
        selector.Flatten(dict, "", 0, names);
        return selector;
    }

    private void Flatten(PyDict dict, string prefix, int depth, HashSet<string> names)
    {
        if (depth > MaxDepth) throw new WeightsFormatException(_file, $"the checkpoint nests dicts deeper than {MaxDepth} levels (at '{prefix}')");
        foreach (var (key, value) in dict.Items)
        {
            string name = prefix + KeyText(key);
            switch (value)
            {
                case TensorRef tensor:
                    if (!names.Add(name)) throw new WeightsFormatException(_file, $"two entries of the checkpoint are both named '{name}' once flattened");
                    Tensors.Add(new(name, tensor));
                    break;
                case PyDict inner:
                    Flatten(inner, name + ".", depth + 1, names);
                    break;
                default:
                    Skipped.Add(name);
                    break;
            }
        }
    }

    private static bool HoldsTensors(PyDict dict, int depth) =>
        depth <= MaxDepth && dict.Items.Any(p => p.Value is TensorRef || p.Value is PyDict inner && HoldsTensors(inner, depth + 1));

    private static string KeyText(object? key) => key switch
    {
        string s => s,
        long n => n.ToString(CultureInfo.InvariantCulture),
        bool b => b ? "True" : "False",
        _ => "None",
    };

    private static string Kind(object? value) => value switch
    {
        null => "None",
        TensorRef => "a single tensor",
        PyList => "a list",
        PyTuple => "a tuple",
        _ => $"a {value.GetType().Name.ToLowerInvariant()}",
    };
}
