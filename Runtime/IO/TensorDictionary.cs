using System.Collections;
using System.Diagnostics.CodeAnalysis;
using static TorchSharp.torch;

namespace EMANet.Runtime.IO;

/// <summary>
/// Named tensors in file order (an ordered state dict). Owns its tensors: <see cref="Dispose"/>
/// disposes them; <see cref="Detach"/> hands one over to the caller instead.
/// </summary>
public sealed class TensorDictionary : IReadOnlyDictionary<string, Tensor>, IDisposable
{
    private readonly List<KeyValuePair<string, Tensor>> _items = new();
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private IReadOnlyDictionary<string, string> _metadata = new Dictionary<string, string>();

    /// <summary>Free-form string metadata (safetensors "__metadata__"); empty for other formats.</summary>
    public IReadOnlyDictionary<string, string> Metadata
    {
        get => _metadata;
        init => _metadata = value;
    }

    internal void SetMetadata(IReadOnlyDictionary<string, string> metadata) => _metadata = metadata;

    /// <summary>Appends a tensor (the dictionary takes ownership); a name already present throws.</summary>
    public void Add(string name, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(tensor);
        if (!_index.TryAdd(name, _items.Count))
            throw new ArgumentException($"a tensor named '{name}' is already present", nameof(name));
        _items.Add(new(name, tensor));
    }

    /// <summary>Removes the entry and returns its tensor, which the caller then owns.</summary>
    public Tensor Detach(string name)
    {
        if (!_index.TryGetValue(name, out var i)) throw new KeyNotFoundException($"no tensor named '{name}'");
        var tensor = _items[i].Value;
        _items.RemoveAt(i);
        _index.Clear();
        for (int j = 0; j < _items.Count; j++) _index[_items[j].Key] = j;
        return tensor;
    }

    public Tensor this[string key] =>
        _index.TryGetValue(key, out var i) ? _items[i].Value : throw new KeyNotFoundException($"no tensor named '{key}'");

    public IEnumerable<string> Keys => _items.Select(p => p.Key);
    public IEnumerable<Tensor> Values => _items.Select(p => p.Value);
    public int Count => _items.Count;

    public bool ContainsKey(string key) => _index.ContainsKey(key);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out Tensor value)
    {
        if (_index.TryGetValue(key, out var i)) { value = _items[i].Value; return true; }
        value = null;
        return false;
    }

    public IEnumerator<KeyValuePair<string, Tensor>> GetEnumerator() => _items.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public void Dispose()
    {
        foreach (var (_, tensor) in _items) tensor.Dispose();
        _items.Clear();
        _index.Clear();
    }
}
