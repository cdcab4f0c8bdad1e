using System.Globalization;

namespace EMANet.Runtime.IO;

/// <summary>
/// Finds the tensors of a state dict inside whatever object a checkpoint holds.
/// <list type="number">
/// <item>The root must be a dict.</item>
/// <item>If it holds a tensor directly, the root is the state dict.</item>
/// <item>Otherwise, if it has one of the keys <see cref="WrapperKeys"/> (in that order) whose value is a dict
/// holding tensors, that dict is the state dict (and the rule applies again inside it, so
/// <c>{"model": {"state_dict": ...}}</c> works too); <see cref="Path"/> records the keys taken.
/// An mmengine / MMSegmentation checkpoint (<c>{"meta", "state_dict", "message_hub", "optimizer",
/// "param_schedulers"}</c>) is read through its <c>state_dict</c> key.</item>
/// <item>Otherwise the whole root is used.</item>
/// </list>
/// The chosen dict is flattened: nested dicts contribute "outer.inner" names (str keys as-is, int keys
/// in decimal), tensors are kept, and every other value (numbers, strings, lists) is skipped and
/// listed in <see cref="Skipped"/>. Everything outside the chosen dict is ignored, including the
/// <see cref="PyPlaceholder"/>s that stand for objects of globals outside the allow-list.
/// Refused (<see cref="WeightsFormatException"/>): a placeholder inside the chosen dict (as a value, a
/// key, or inside a list or tuple value), named by its path from the root; two entries flattening to
/// one name; a dict reached twice (shared or nested in itself); nesting deeper than <see cref="MaxDepth"/>.
/// Each container is visited once, so the work is linear in the size of the pickle.
/// </summary>
internal sealed class StateDictSelector
{
    public static readonly string[] WrapperKeys = { "state_dict", "model_state_dict", "model", "net", "network", "module" };

    public const int MaxDepth = 32;

    private readonly string _file;
    private readonly HashSet<object> _visited = new(ReferenceEqualityComparer.Instance);

    private StateDictSelector(string file) => _file = file;

    /// <summary>The wrapper keys taken from the root, joined with '.'; empty when the root is the state dict.</summary>
    public string Path { get; private set; } = "";

    /// <summary>Entries that were not tensors, by flattened name.</summary>
    public List<string> Skipped { get; } = new();

    public List<KeyValuePair<string, TensorRef>> Tensors { get; } = new();

    public static StateDictSelector Select(object? root, string file)
    {
        var selector = new StateDictSelector(file);
        if (root is PyPlaceholder placeholder)
            throw new WeightsFormatException(file, $"refuses global '{placeholder.Global}': the checkpoint holds {placeholder.Description}, not a dict of tensors (nothing was imported or run)");
        if (root is not PyDict dict) throw new WeightsFormatException(file, $"the checkpoint holds {Kind(root)}, not a dict of tensors");

        var path = new List<string>();
        while (!dict.Items.Any(p => p.Value is TensorRef) && path.Count < MaxDepth)
        {
            PyDict? inner = null;
            foreach (var key in WrapperKeys)
            {
                if (dict.TryGet(key, out var value) && value is PyDict candidate && HoldsTensors(candidate))
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
        if (!_visited.Add(dict))
            throw new WeightsFormatException(_file, $"the dict at '{Qualified(prefix.TrimEnd('.'))}' was reached before (a dict shared by two keys or nested in itself)");
        foreach (var (key, value) in dict.Items)
        {
            if (!PyDict.IsPlainKey(key)) throw UnsupportedKey(prefix.TrimEnd('.'), key);
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
                case PyPlaceholder placeholder:
                    throw PlaceholderValue(name, placeholder);
                case PyList or PyTuple:
                    RefuseNestedPlaceholders(value, name);
                    Skipped.Add(name);
                    break;
                default:
                    Skipped.Add(name);
                    break;
            }
        }
    }

    /// <summary>Refuses a placeholder anywhere inside a list or tuple value (and the dicts, lists and tuples in it).</summary>
    private void RefuseNestedPlaceholders(object container, string name)
    {
        var pending = new Stack<(object Value, string Where)>();
        pending.Push((container, name));
        while (pending.Count > 0)
        {
            var (value, where) = pending.Pop();
            if (value is PyPlaceholder placeholder) throw PlaceholderValue(where, placeholder);
            if (value is not (PyList or PyTuple or PyDict) || !_visited.Add(value)) continue;
            switch (value)
            {
                case PyList list:
                    for (int i = list.Count - 1; i >= 0; i--) pending.Push((list[i]!, $"{where}[{i}]"));
                    break;
                case PyTuple tuple:
                    for (int i = tuple.Count - 1; i >= 0; i--) pending.Push((tuple[i]!, $"{where}[{i}]"));
                    break;
                case PyDict dict:
                    foreach (var (key, item) in dict.Items.Reverse())
                    {
                        if (!PyDict.IsPlainKey(key)) throw UnsupportedKey(where, key);
                        pending.Push((item!, $"{where}[{PythonKey(key)}]"));
                    }
                    break;
            }
        }
    }

    private WeightsFormatException PlaceholderValue(string name, PyPlaceholder placeholder)
    {
        string what = placeholder.Origin == PlaceholderOrigin.Tensor
            ? $"{placeholder.Description}, an element type this reader does not support"
            : $"{placeholder.Description}, not a tensor";
        return new WeightsFormatException(_file,
            $"refuses global '{placeholder.Global}' inside the state dict: '{Qualified(name)}' is {what}. " +
            $"Nothing was imported or run; such objects are skipped only outside the state dict. {Remedy}");
    }

    /// <summary>A key other than str, int, bool or None inside the state dict (names could not be made of it).</summary>
    private WeightsFormatException UnsupportedKey(string name, object? key)
    {
        string where = name.Length == 0 && Path.Length == 0 ? "the state dict" : $"'{Qualified(name)}'";
        string what = key switch
        {
            PyPlaceholder p => $"refuses global '{p.Global}' inside the state dict: {where} has a key that is {p.Description}",
            double d => $"{where} of the state dict has a float key {d.ToString(CultureInfo.InvariantCulture)}",
            PyTuple t => $"{where} of the state dict has a key that is a tuple of {t.Count}",
            TensorRef => $"{where} of the state dict has a key that is a tensor",
            _ => $"{where} of the state dict has a key that is {Kind(key)}",
        };
        return new(_file, $"{what}, not a str or int. Nothing was imported or run. {Remedy}");
    }

    private string Remedy =>
        "If you trust the file, load it in Python and save the tensors alone: " +
        $"sd = torch.load(path, weights_only=False){string.Concat(Path.Split('.', StringSplitOptions.RemoveEmptyEntries).Select(k => $"['{k}']"))}; " +
        "torch.save({str(k): torch.as_tensor(v) for k, v in sd.items()}, 'weights.pth')";

    /// <summary>The name with the wrapper keys taken, as a path from the checkpoint's root.</summary>
    private string Qualified(string name) => Path.Length == 0 ? name : name.Length == 0 ? Path : $"{Path}.{name}";

    /// <summary>Whether the dict holds a tensor at any depth; each dict is looked at once.</summary>
    private static bool HoldsTensors(PyDict dict)
    {
        var seen = new HashSet<PyDict>(ReferenceEqualityComparer.Instance);
        var pending = new Stack<PyDict>();
        pending.Push(dict);
        while (pending.Count > 0)
        {
            var current = pending.Pop();
            if (!seen.Add(current)) continue;
            foreach (var (_, value) in current.Items)
            {
                if (value is TensorRef) return true;
                if (value is PyDict inner) pending.Push(inner);
            }
        }
        return false;
    }

    private static string KeyText(object? key) => key switch
    {
        string s => s,
        long n => n.ToString(CultureInfo.InvariantCulture),
        bool b => b ? "True" : "False",
        _ => "None",
    };

    private static string PythonKey(object? key) => key is string s ? $"'{s}'" : KeyText(key);

    private static string Kind(object? value) => value switch
    {
        null => "None",
        TensorRef => "a single tensor",
        PyList => "a list",
        PyTuple => "a tuple",
        byte[] => "bytes",
        PyGlobal g => $"the global {g.FullName}",
        StorageRef => "a storage",
        _ => $"a {value.GetType().Name.ToLowerInvariant()}",
    };
}
