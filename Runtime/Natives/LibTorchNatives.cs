using System.Reflection;
using System.Runtime.InteropServices;

namespace EMANet.Runtime.Natives;

/// <summary>
/// Runs TorchSharp on a libtorch that is already installed (a PyTorch installation's
/// <c>torch/lib</c>) instead of the one from the <c>libtorch-cpu-linux-x64</c> package, e.g. on a
/// GPU machine where no TorchSharp CUDA package can be restored.
/// </summary>
/// <remarks>
/// How TorchSharp finds its natives (0.107, <c>torch.LoadNativeBackend</c>): it asks
/// <see cref="NativeLibrary.TryLoad(string, Assembly, DllImportSearchPath?, out IntPtr)"/> for
/// <c>torch_cpu</c> (or <c>torch_cuda</c>) and then <c>LibTorchSharp</c> by name, relative to
/// TorchSharp.dll, and only if that fails looks for the NuGet package folders. Its README's advice
/// for a Python install is an explicit <c>NativeLibrary.Load</c> of the libtorch libraries before
/// the first tensor operation. This class does that: it loads, by full path, libc10, libtorch_cpu,
/// libc10_cuda and libtorch_cuda when present, and libtorch from the given folder (each library's
/// own RUNPATH finds its dependencies, e.g. the CUDA libraries of the nvidia-* wheels); the dynamic
/// loader then satisfies libLibTorchSharp's dependencies and TorchSharp's by-name probes with these
/// already-loaded copies (it matches loaded objects by soname). Finally it loads libLibTorchSharp
/// (the application's own copy, or <see cref="LibTorchSharpVariable"/>) and binds TorchSharp's
/// P/Invokes to it through a DllImport resolver.
/// <para>
/// libLibTorchSharp is C++ compiled against one libtorch (TorchSharp 0.107: libtorch 2.10); a
/// libtorch of another minor version may fail to load with undefined symbols. That is reported, not
/// hidden. Not run on a GPU in this repository (see README, "GPU check").
/// </para>
/// </remarks>
public static class LibTorchNatives
{
    /// <summary>Folder with libtorch*.so and libc10*.so, e.g. <c>$(python -c 'import torch, os; print(os.path.dirname(torch.__file__))')/lib</c>.</summary>
    public const string LibTorchDirectoryVariable = "EMANET_LIBTORCH_DIR";

    /// <summary>Optional full path of libLibTorchSharp.so (default: the application folder, then its runtimes/linux-x64/native).</summary>
    public const string LibTorchSharpVariable = "EMANET_LIBTORCHSHARP";

    private static readonly string[] LoadOrder =
        ["libc10.so", "libtorch_cpu.so", "libc10_cuda.so", "libtorch_cuda.so", "libtorch.so"];

    private static readonly object Gate = new();
    private static IReadOnlyList<string>? _loaded;
    private static IntPtr _libTorchSharp;

    /// <summary>The libraries this process loaded through this class (empty if none).</summary>
    public static IReadOnlyList<string> Loaded => _loaded ?? [];

    /// <summary>
    /// When <see cref="LibTorchDirectoryVariable"/> is set, loads libtorch from there (see the class
    /// remarks) and returns the loaded paths; otherwise does nothing and returns an empty list.
    /// Call before the first tensor operation.
    /// </summary>
    public static IReadOnlyList<string> LoadFromEnvironment()
    {
        var directory = Environment.GetEnvironmentVariable(LibTorchDirectoryVariable);
        return string.IsNullOrWhiteSpace(directory) ? [] : LoadFrom(directory, Environment.GetEnvironmentVariable(LibTorchSharpVariable));
    }

    /// <summary>Loads libtorch from <paramref name="directory"/> and then libLibTorchSharp; idempotent. Throws with the loader's message on failure.</summary>
    public static IReadOnlyList<string> LoadFrom(string directory, string? libTorchSharpPath = null)
    {
        lock (Gate)
        {
            if (_loaded is not null) return _loaded;
            if (!Directory.Exists(directory))
                throw new DirectoryNotFoundException($"{LibTorchDirectoryVariable}: '{directory}' does not exist");
            var loaded = new List<string>();
            foreach (var name in LoadOrder)
            {
                var path = Path.Combine(directory, name);
                if (!File.Exists(path))
                {
                    if (name is "libc10.so" or "libtorch_cpu.so")
                        throw new FileNotFoundException($"{LibTorchDirectoryVariable}: '{directory}' has no {name}; point it at a libtorch lib folder (e.g. site-packages/torch/lib)", path);
                    continue;
                }
                Load(path);
                loaded.Add(path);
            }

            var sharp = libTorchSharpPath is { Length: > 0 } ? libTorchSharpPath : FindLibTorchSharp();
            _libTorchSharp = Load(sharp);
            loaded.Add(sharp);
            try
            {
                NativeLibrary.SetDllImportResolver(typeof(TorchSharp.torch).Assembly,
                    (name, _, _) => name is "LibTorchSharp" or "libLibTorchSharp" or "libLibTorchSharp.so" ? _libTorchSharp : IntPtr.Zero);
            }
            catch (InvalidOperationException)
            {
                // A resolver is already set for TorchSharp: its probing then finds the copy loaded above by path.
            }
            _loaded = loaded;
            return loaded;
        }
    }

    private static IntPtr Load(string path)
    {
        try
        {
            return NativeLibrary.Load(path);
        }
        catch (DllNotFoundException e)
        {
            throw new DllNotFoundException(
                $"could not load {path}: {e.Message}. libLibTorchSharp of TorchSharp 0.107 is built against libtorch 2.10; " +
                "another libtorch version can miss its symbols.", e);
        }
    }

    private static string FindLibTorchSharp()
    {
        var candidates = new[]
        {
            Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so"),
            Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so"),
        };
        return candidates.FirstOrDefault(File.Exists)
               ?? throw new FileNotFoundException($"libLibTorchSharp.so not found in the application folder; set {LibTorchSharpVariable}", candidates[0]);
    }
}
