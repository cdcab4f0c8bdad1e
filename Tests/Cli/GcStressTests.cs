using System.Diagnostics;

namespace EMANet.Tests.Cli;

/// <summary>Runs alone: the CLI processes below use both cores, and their speed sets the test's run time.</summary>
[CollectionDefinition(nameof(GcStress), DisableParallelization = true)]
public sealed class GcStress;

/// <summary>
/// The real CLI (the built emanet.dll, run by <c>dotnet</c> in a temporary folder) under the GC-stress startup hook
/// (tools/gc-stress: a thread that loops <c>GC.Collect(0); GC.WaitForPendingFinalizers();</c>), so a TorchSharp Scalar freed only
/// by its finalizer is freed within a millisecond of becoming unreachable. Any temporary Scalar that libtorch still reads — an
/// implicit conversion, a default alpha, TorchSharp's BatchNorm counting batches — then fails the command ("Unknown scalar type",
/// "alpha must not be a floating point number", "Expected false to be true" from Scalar::toFloat) within a few iterations.
/// The rule and the build check are in README.md, "TorchSharp Scalars"; run by hand as shown there.
/// </summary>
[Collection(nameof(GcStress))]
public sealed class GcStressTests : IDisposable
{
    // Long enough that the code before the Scalar fix failed every time (README.md, "TorchSharp Scalars"), short enough for CI.
    private static readonly string[] TrainArguments =
        ["--data", "synthetic", "--input", "3x65x65", "--iterations", "20", "--batch-size", "4", "--eval-interval", "10", "--log-interval", "5"];

    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(5);

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "emanet-tests", $"gc-stress-{Guid.NewGuid():N}");

    public GcStressTests() => Directory.CreateDirectory(_folder);

    public void Dispose()
    {
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [Fact]
    public void TrainFp32_ThenEvalPredictAndFusedPredict_SurviveForcedCollections()
    {
        var run = Path.Combine(_folder, "fp32");
        Emanet(["train", "emanet-tiny", "--out", run, .. TrainArguments]);
        var checkpoint = Path.Combine(run, "checkpoint.ckpt");
        var image = Path.Combine(run, "sample.png");
        Assert.True(File.Exists(checkpoint), "train wrote no checkpoint");
        Assert.True(File.Exists(image), "train wrote no sample image");

        Emanet(["eval", "emanet-tiny", "--weights", checkpoint, "--data", "synthetic", "--limit", "8"]);

        var mask = Path.Combine(_folder, "mask.png");
        var attention = Path.Combine(_folder, "attention.png");
        Emanet(["predict", "emanet-tiny", "--weights", checkpoint, "--input", image, "--output", mask, "--attention", attention]);
        Assert.True(File.Exists(mask) && File.Exists(attention), "predict wrote no mask or no attention grid");

        var fusedMask = Path.Combine(_folder, "mask-fused.png");
        var fusedAttention = Path.Combine(_folder, "attention-fused.png");
        Emanet(["predict", "emanet-tiny", "--weights", checkpoint, "--input", image, "--output", fusedMask, "--attention", fusedAttention, "--fuse"]);
        Assert.True(File.Exists(fusedMask) && File.Exists(fusedAttention), "predict --fuse wrote no mask or no attention grid");
    }

    [Fact]
    public void TrainBf16Mixed_SurvivesForcedCollections()
    {
        var run = Path.Combine(_folder, "bf16");
        Emanet(["train", "emanet-tiny", "--out", run, "--precision", "bf16-mixed", .. TrainArguments]);
        Assert.True(File.Exists(Path.Combine(run, "checkpoint.ckpt")), "train --precision bf16-mixed wrote no checkpoint");
    }

    /// <summary>Runs <c>dotnet emanet.dll args</c> under the hook in the test's folder; fails with the command, exit code and output tail.</summary>
    private void Emanet(string[] args)
    {
        var hook = Path.Combine(AppContext.BaseDirectory, "GcStress.dll");
        Assert.True(File.Exists(CliProcess.Dll), $"the CLI is not next to the tests: {CliProcess.Dll}");
        Assert.True(File.Exists(hook), $"the GC-stress startup hook is not next to the tests: {hook} (tools/gc-stress, referenced by Tests.csproj)");
        var environment = new Dictionary<string, string?>
        {
            ["DOTNET_STARTUP_HOOKS"] = hook,
            ["EMANET_GC_STRESS_SLEEP_MS"] = null,      // the hook's defaults: gen-0 collections every millisecond
            ["EMANET_GC_STRESS_GENERATION"] = null,
        };
        var clock = Stopwatch.StartNew();
        var (exit, output, error) = CliProcess.Run(_folder, CommandTimeout, environment, args);
        Assert.True(exit == 0,
            $"emanet {string.Join(' ', args)} exited with {exit} after {clock.Elapsed.TotalSeconds:F0} s under forced collections (a temporary TorchSharp Scalar freed while in use?)\n{Tail(output + "\n" + error)}");
    }

    /// <summary>The last lines of the output without libtorch's native frames and .NET stack lines: progress, the exception message.</summary>
    private static string Tail(string text)
    {
        var kept = text.Split('\n').Where(l => !l.StartsWith("frame #", StringComparison.Ordinal) && !l.StartsWith("   at ", StringComparison.Ordinal)).ToList();
        return string.Join('\n', kept.Skip(Math.Max(0, kept.Count - 12)));
    }
}
