using System.Diagnostics;
using EMANet.Models;
using EMANet.Runtime.Blocks;
using EMANet.Runtime.Networks;
using EMANet.Runtime.Onnx;
using EMANet.Tests.Training;
using static TorchSharp.torch;

namespace EMANet.Tests.Onnx;

/// <summary>Every block can export, and the files pass the ONNX project's own checker.</summary>
[Collection(nameof(TorchGlobalState))]
public class OnnxCoverageTests : IDisposable
{
    private readonly TempFolders _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Every_module_type_of_Runtime_Blocks_implements_IOnnxExportable()
    {
        var blocks = typeof(Conv2d).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(Conv2d).Namespace && !t.IsAbstract && typeof(nn.Module).IsAssignableFrom(t))
            .ToArray();
        Assert.Contains(typeof(EmaUnit), blocks);
        Assert.Contains(typeof(BilinearUpsample), blocks);
        var missing = blocks.Where(t => !typeof(IOnnxExportable).IsAssignableFrom(t)).Select(t => t.Name).ToArray();
        Assert.True(missing.Length == 0, "no ONNX export: " + string.Join(", ", missing));
    }

    [OnnxCheckerFact]
    public void OnnxChecker_accepts_the_exported_models()
    {
        TorchGlobalState.Seed(5);
        var folder = _temp.New("onnx-checker");
        var files = new List<string>();
        foreach (var name in new[] { "emanet-tiny", "deeplabv3plus-tiny", "deeplabv3-tiny", "fcn-tiny", "tiny-aux-test", "onnx-every-layer-test" })
            foreach (var dynamic in new[] { false, true })
            {
                using var network = OnnxEquivalenceTests.Find(name).Create();
                var path = Path.Combine(folder, $"{name}{(dynamic ? "-dynamic" : "")}.onnx");
                OnnxExporter.ExportFile(network, path, new OnnxExportOptions(dynamic));
                files.Add(path);
            }
        var (exit, output) = OnnxChecker.Run(files);
        Assert.True(exit == 0, output);
        Assert.Equal(files.Count, output.Split('\n').Count(l => l.StartsWith("ok ", StringComparison.Ordinal)));
    }
}

/// <summary>The Debian package python3-onnx's checker (onnx.checker.check_model with full_check, which also runs ONNX's shape inference).</summary>
internal static class OnnxChecker
{
    private const string Script = "import sys, onnx\nfor path in sys.argv[1:]:\n    onnx.checker.check_model(onnx.load(path), full_check=True)\n    print('ok ' + path)\n";

    /// <summary>Null when the checker can run here, else why not (with the install command).</summary>
    public static string? Unavailable { get; } = Probe();

    public static (int Exit, string Output) Run(IEnumerable<string> files) => Python(["-c", Script, .. files]);

    private static string? Probe()
    {
        try
        {
            var (exit, output) = Python(["-c", "import onnx"]);
            return exit == 0 ? null : $"python3 cannot import onnx ({output.Trim().Split('\n').Last()}); install it with: apt-get install python3-onnx";
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return $"python3 is not available ({e.Message}); install it with: apt-get install python3-onnx";
        }
    }

    private static (int Exit, string Output) Python(string[] args)
    {
        // Debian's interpreter, where python3-onnx installs (a PATH python3 from pyenv would not see it).
        var interpreter = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var start = new ProcessStartInfo(interpreter) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2))) { process.Kill(); throw new InvalidOperationException("the ONNX checker ran over 2 minutes"); }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}

/// <summary>A fact skipped, with the reason and the install command, where python3-onnx is missing.</summary>
public sealed class OnnxCheckerFactAttribute : FactAttribute
{
    public OnnxCheckerFactAttribute()
    {
        if (OnnxChecker.Unavailable is { } reason) Skip = reason;
    }
}
