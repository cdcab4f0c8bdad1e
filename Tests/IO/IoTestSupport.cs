using EMANet.Runtime.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace EMANet.Tests.IO;

/// <summary>Paths of the committed fixtures and small helpers shared by the IO tests.</summary>
internal static class IoTestSupport
{
    public static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    public static readonly string[] Networks = { "ema_head", "emanet_small", "torchvision_resnet18" };

    /// <summary>Same dtype, shape and bytes (NaN-safe, sign-of-zero-safe).</summary>
    public static void AssertBitwiseEqual(Tensor expected, Tensor actual, string name)
    {
        Assert.True(expected.dtype == actual.dtype, $"{name}: dtype {actual.dtype}, expected {expected.dtype}");
        Assert.True(expected.shape.SequenceEqual(actual.shape),
            $"{name}: shape [{string.Join(", ", actual.shape)}], expected [{string.Join(", ", expected.shape)}]");
        var a = expected.contiguous().numel() == 0 ? Array.Empty<byte>() : expected.contiguous().bytes.ToArray();
        var b = actual.contiguous().numel() == 0 ? Array.Empty<byte>() : actual.contiguous().bytes.ToArray();
        Assert.True(a.AsSpan().SequenceEqual(b), $"{name}: values differ");
    }

    public static void AssertSameTensors(IReadOnlyDictionary<string, Tensor> expected, IReadOnlyDictionary<string, Tensor> actual)
    {
        Assert.Equal(expected.Keys, actual.Keys);
        foreach (var (name, tensor) in expected) AssertBitwiseEqual(tensor, actual[name], name);
    }

    /// <summary>The exception's message starts with the file and contains every fragment.</summary>
    public static WeightsFormatException AssertDefect(string file, Action read, params string[] fragments)
    {
        var e = Assert.Throws<WeightsFormatException>(read);
        Assert.StartsWith(file + ": ", e.Message);
        foreach (var fragment in fragments) Assert.Contains(fragment, e.Message);
        return e;
    }
}

/// <summary>A folder under the system temp folder, removed on dispose.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "emanet-io-" + Guid.NewGuid().ToString("N"));

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

/// <summary>
/// A module whose state-dict keys are given as data (dotted paths), with nested child modules
/// created on the way: a stand-in for a network in loader tests.
/// </summary>
internal sealed class KeyedModule : nn.Module
{
    private readonly Dictionary<string, KeyedModule> _children = new(StringComparer.Ordinal);

    public KeyedModule(string name = "keyed") : base(name) { }

    public static KeyedModule From(IEnumerable<(string Key, long[] Shape, ScalarType Type, bool Buffer)> entries)
    {
        var root = new KeyedModule();
        foreach (var (key, shape, type, buffer) in entries) root.Add(key, zeros(shape, type), buffer);
        return root;
    }

    /// <summary>Buffers: running_mean, running_var, num_batches_tracked, mu; everything else a parameter.</summary>
    public static bool IsBufferName(string key) =>
        key.EndsWith("running_mean") || key.EndsWith("running_var") || key.EndsWith("num_batches_tracked") || key == "mu" || key.EndsWith(".mu");

    public void Add(string key, Tensor value, bool buffer)
    {
        int dot = key.IndexOf('.');
        if (dot < 0)
        {
            if (buffer) register_buffer(key, value);
            else register_parameter(key, new TorchSharp.Modules.Parameter(value, requires_grad: value.is_floating_point()));
            return;
        }
        string head = key[..dot];
        if (!_children.TryGetValue(head, out var child))
        {
            child = new KeyedModule(head);
            _children[head] = child;
            register_module(head, child);
        }
        child.Add(key[(dot + 1)..], value, buffer);
    }
}
