using System.Diagnostics;
using System.Text.RegularExpressions;

namespace EMANet.Tests.Generator;

/// <summary>
/// What a user's `dotnet build` shows for a declaration with a channel mismatch: the EMA error and nothing else. The project
/// is outside the repository (none of its build files apply), references the runtime and loads the generator's assembly as
/// an analyzer, as a package reference would; code-style rules run in the build (EnforceCodeStyleInBuild, with the IDE rules
/// about unused and non-readonly private fields raised to warnings). A field that is no layer must still get the compiler's
/// and the IDE's warnings: that shows they are on, and that the suppressor removes only what concerns layer fields.
/// </summary>
public class BuildDiagnosticsTests
{
    private const string Network = """
        using EMANet;
        using EMANet.Runtime.Blocks;

        namespace Check;

        [SegmentationNetwork("mismatch", InputHeight = 65, InputWidth = 65)]
        public partial class Mismatch
        {
            [Conv(8, 3)] private readonly ConvBlock a;
            [Conv(16, 3)] private readonly ConvBlock b;
            [Add("a", "b")] private readonly ResidualAdd sum;
            [Classifier] private readonly Conv2d classifier;
            [Upsample(SizeOf = "input")] private readonly BilinearUpsample upsample;
            private readonly object notALayer;
        }
        """;

    [Fact]
    public void A_channel_mismatch_builds_to_its_EMA_error_and_no_field_warnings()
    {
        var bin = AppContext.BaseDirectory;
        var dir = Directory.CreateTempSubdirectory("emanet-build-").FullName;
        try
        {
            // Empty build files stop MSBuild's search upwards (a Directory.Build.props above the temp folder would apply).
            File.WriteAllText(Path.Combine(dir, "Directory.Build.props"), "<Project />");
            File.WriteAllText(Path.Combine(dir, "Directory.Build.targets"), "<Project />");
            File.WriteAllText(Path.Combine(dir, "Check.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <EnforceCodeStyleInBuild>true</EnforceCodeStyleInBuild>
                  </PropertyGroup>
                  <ItemGroup>
                    <Reference Include="{Path.Combine(bin, "EMANet.Runtime.dll")}" />
                    <Reference Include="{Path.Combine(bin, "TorchSharp.dll")}" />
                    <Analyzer Include="{Path.Combine(bin, "EMANet.Generator.dll")}" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(dir, ".editorconfig"), """
                root = true
                [*.cs]
                dotnet_diagnostic.IDE0044.severity = warning
                dotnet_diagnostic.IDE0051.severity = warning
                dotnet_diagnostic.IDE0052.severity = warning
                """);
            File.WriteAllText(Path.Combine(dir, "Network.cs"), Network);

            var (exit, output) = Build(dir);
            var reported = Regex.Matches(output, @"Network\.cs\((\d+),\d+\): (error|warning) ([A-Z]+\d+): ([^\r\n]*)")
                .Select(m => (Line: int.Parse(m.Groups[1].Value), Severity: m.Groups[2].Value, Id: m.Groups[3].Value, Message: m.Groups[4].Value))
                .Distinct()
                .ToArray();
            string all = "build output:\n" + output;

            Assert.True(exit != 0, "the build should fail; " + all);
            var ema = Assert.Single(reported, d => d.Id.StartsWith("EMA", StringComparison.Ordinal));
            Assert.Equal(("EMA0004", "error", 11), (ema.Id, ema.Severity, ema.Line));
            Assert.Contains("Channel counts do not match in layer 'sum'", ema.Message);
            // Everything else is about the field that is no layer (line 14): CS0169 and IDE0051 at least, proving both kinds run.
            var others = reported.Where(d => d != ema).ToArray();
            Assert.All(others, d => Assert.True(d.Line == 14, $"{d.Id} on line {d.Line}: {d.Message}; {all}"));
            Assert.Contains(others, d => d.Id == "CS0169");
            Assert.Contains(others, d => d.Id == "IDE0051");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>`dotnet build` in <paramref name="dir"/>, without build servers (nothing keeps running after the test), at most 5 minutes.</summary>
    private static (int Exit, string Output) Build(string dir)
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path ? path : "dotnet";
        var start = new ProcessStartInfo(host)
        {
            WorkingDirectory = dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "build", "--disable-build-servers", "-nodeReuse:false", "-p:UseSharedCompilation=false", "-clp:NoSummary" })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("dotnet build did not finish in 5 minutes");
        }
        return (process.ExitCode, output.Result + error.Result);
    }
}
