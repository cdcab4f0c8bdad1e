using static TorchSharp.torch;

namespace EMANet.Runtime.IO;

// The Python values the restricted unpickler can produce. Besides these: null (None), bool, long,
// double, string and byte[]. Nothing here refers to code; globals are plain names.

/// <summary>How a <see cref="PyPlaceholder"/> came about.</summary>
internal enum PlaceholderOrigin
{
    /// <summary>The global itself (GLOBAL or STACK_GLOBAL of a name outside the allow-list).</summary>
    Global,

    /// <summary>What REDUCE, NEWOBJ or NEWOBJ_EX of a placeholder would have made in Python.</summary>
    Object,

    /// <summary>A tensor (or its storage) whose storage type is outside the allow-list.</summary>
    Tensor,
}

/// <summary>
/// An inert stand-in for whatever a global outside <see cref="PickleGlobals"/> would have produced:
/// the global itself, an object "built" from it, or a tensor in an unsupported storage. It records
/// only the global's module.name; the operations Python would apply to it (REDUCE, NEWOBJ, BUILD,
/// APPEND(S), SETITEM(S)) are absorbed and their arguments dropped. Nothing is imported, called or
/// constructed. The reader skips placeholders outside the state dict and refuses the file when one
/// lies inside it (<see cref="StateDictSelector"/>). Compared by reference (as a dict key, too).
/// </summary>
internal sealed class PyPlaceholder(string global, PlaceholderOrigin origin)
{
    /// <summary>module.name of the global, e.g. numpy.core.multiarray.scalar.</summary>
    public string Global { get; } = global;

    public PlaceholderOrigin Origin { get; } = origin;

    /// <summary>What it is, for messages: "an object of numpy.core.multiarray.scalar", "the global os.system", ...</summary>
    public string Description => Origin switch
    {
        PlaceholderOrigin.Global => $"the global {Global}",
        PlaceholderOrigin.Object => $"an object of {Global}",
        _ => $"a tensor stored as {Global}",
    };

    public override string ToString() => Description;
}

/// <summary>A reference to an allowed global (module.name); never resolved to anything executable.</summary>
internal sealed record PyGlobal(string Module, string Name)
{
    public string FullName => $"{Module}.{Name}";
    public override string ToString() => FullName;
}

/// <summary>An immutable Python tuple.</summary>
internal sealed class PyTuple(object?[] items)
{
    public object?[] Items { get; } = items;
    public int Count => Items.Length;
    public object? this[int i] => Items[i];
    public override string ToString() => $"tuple of {Items.Length}";
}

/// <summary>A mutable Python list.</summary>
internal sealed class PyList : List<object?>
{
}

/// <summary>
/// A Python dict or OrderedDict in insertion order. Keys are str, int, bool or None (what state dicts
/// and optimizer states use), compared by value: setting an existing key replaces its value in place,
/// as in Python. Any other key Python can hash (a float, a tuple, bytes, a tensor, a <see cref="PyPlaceholder"/>
/// for a numpy integer or an enum member, ...) is kept and compared by reference (metadata only: the
/// state dict refuses such keys); a list or dict, which Python cannot hash, is not a key.
/// </summary>
internal sealed class PyDict
{
    private readonly List<KeyValuePair<object?, object?>> _items = new();
    private readonly Dictionary<object, int> _index = new();
    private int _noneIndex = -1;

    public int Count => _items.Count;
    public IReadOnlyList<KeyValuePair<object?, object?>> Items => _items;

    /// <summary>Attributes set by BUILD (an OrderedDict's _metadata); kept but unused.</summary>
    public PyDict? Attributes { get; set; }

    public static bool IsValidKey(object? key) => key is not (PyList or PyDict);

    /// <summary>Whether the key is compared by value (str, int, bool, None); the others by reference.</summary>
    public static bool IsPlainKey(object? key) => key is null or string or long or bool;

    public void Set(object? key, object? value)
    {
        if (!IsValidKey(key)) throw new InvalidOperationException("invalid dict key type");
        if (!IsPlainKey(key)) { _items.Add(new(key, value)); return; }
        int existing = key is null ? _noneIndex : _index.GetValueOrDefault(key, -1);
        if (existing >= 0) { _items[existing] = new(key, value); return; }
        if (key is null) _noneIndex = _items.Count;
        else _index[key] = _items.Count;
        _items.Add(new(key, value));
    }

    public bool TryGet(string key, out object? value)
    {
        if (_index.TryGetValue(key, out var i)) { value = _items[i].Value; return true; }
        value = null;
        return false;
    }
}

/// <summary>A storage named by a persistent id: ('storage', torch.XStorage, key, location, numel).</summary>
internal sealed record StorageRef(ScalarType Type, string Key, string Location, long Elements);

/// <summary>A tensor as _rebuild_tensor_v2 describes it: a strided view into a storage.</summary>
internal sealed record TensorRef(StorageRef Storage, long Offset, long[] Size, long[] Stride);
