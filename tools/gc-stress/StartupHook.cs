using System.Threading;

/// <summary>
/// The startup hook the runtime calls before <c>Main</c> when the process runs with <c>DOTNET_STARTUP_HOOKS=/abs/path/GcStress.dll</c>.
/// It starts one background thread that loops <c>GC.Collect(); GC.WaitForPendingFinalizers();</c> with a sleep of
/// <c>EMANET_GC_STRESS_SLEEP_MS</c> milliseconds (default 1; 0 yields only). Every object that is unreachable — in particular a
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
        int sleepMs = 1;
        string? configured = Environment.GetEnvironmentVariable("EMANET_GC_STRESS_SLEEP_MS");
        if (configured is not null && (!int.TryParse(configured, out sleepMs) || sleepMs < 0))
            throw new ArgumentException($"EMANET_GC_STRESS_SLEEP_MS must be a non-negative integer (milliseconds), got '{configured}'.");
        var thread = new Thread(() => Collect(sleepMs)) { IsBackground = true, Name = "gc-stress" };
        thread.Start();
    }

    private static void Collect(int sleepMs)
    {
        while (true)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            if (sleepMs == 0) Thread.Yield();
            else Thread.Sleep(sleepMs);
        }
    }
}
