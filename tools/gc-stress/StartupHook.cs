using System.Threading;

/// <summary>
/// The startup hook the runtime calls before <c>Main</c> when the process runs with <c>DOTNET_STARTUP_HOOKS=/abs/path/GcStress.dll</c>.
/// It starts one background thread that loops <c>GC.Collect(generation); GC.WaitForPendingFinalizers();</c> with a sleep of
/// <c>EMANET_GC_STRESS_SLEEP_MS</c> milliseconds (default 1; 0 yields only). The generation is <c>EMANET_GC_STRESS_GENERATION</c>
/// (default 0: a temporary Scalar is young, and gen-0 collections are cheap enough to keep a training run fast; 2 for full,
/// blocking collections, several times slower). Every young object that is unreachable — in particular a
/// TorchSharp <c>Scalar</c> created by an implicit conversion or a default <c>alpha</c> and passed to a native call — is finalized
/// within about a millisecond, which turns a rare use-after-free into one that happens within a few training iterations.
/// The class must be named <c>StartupHook</c>, sit in the global namespace and have <c>public static void Initialize()</c>
/// (the .NET startup-hook contract).
/// </summary>
internal static class StartupHook
{
    /// <summary>Starts the collecting thread (a background thread: it never keeps the process alive).</summary>
    public static void Initialize()
    {
        int sleepMs = Setting("EMANET_GC_STRESS_SLEEP_MS", 1, int.MaxValue);
        int generation = Setting("EMANET_GC_STRESS_GENERATION", 0, GC.MaxGeneration);
        var thread = new Thread(() => Collect(sleepMs, generation)) { IsBackground = true, Name = "gc-stress" };
        thread.Start();
    }

    private static int Setting(string name, int fallback, int max)
    {
        string? configured = Environment.GetEnvironmentVariable(name);
        if (configured is null) return fallback;
        if (!int.TryParse(configured, out int value) || value < 0 || value > max)
            throw new ArgumentException($"{name} must be an integer in [0, {max}], got '{configured}'.");
        return value;
    }

    private static void Collect(int sleepMs, int generation)
    {
        while (true)
        {
            GC.Collect(generation);
            GC.WaitForPendingFinalizers();
            if (sleepMs == 0) Thread.Yield();
            else Thread.Sleep(sleepMs);
        }
    }
}
