using System.Runtime.CompilerServices;

namespace EMANet.Tests.Generator;

/// <summary>
/// Golden files for generated sources: Tests/Generator/Snapshots/NAME.g.cs.txt, found next to this
/// source file. A difference fails with the first differing line; EMANET_ACCEPT_SNAPSHOTS=1
/// (re)writes the file instead, except under CI (the CI variable set, as .ci/run's environment does):
/// there acceptance is refused and the test fails, so a CI run can never turn a mismatch into a pass.
/// </summary>
internal static class Snapshot
{
    public const string AcceptVariable = "EMANET_ACCEPT_SNAPSHOTS";

    /// <summary>Set to "true" by CI services (GitHub Actions, GitLab, the project's .ci/run environment).</summary>
    public const string CiVariable = "CI";

    public static string Directory([CallerFilePath] string thisFile = "") =>
        Path.Combine(Path.GetDirectoryName(thisFile)!, "Snapshots");

    public static string PathOf(string name) => System.IO.Path.Combine(Directory(), name + ".g.cs.txt");

    /// <summary>Whether the acceptance variable asks to rewrite snapshots (whether or not CI then refuses it).</summary>
    public static bool AcceptRequested(Func<string, string?> environment) => environment(AcceptVariable) == "1";

    /// <summary>Whether the environment is a CI run: CI set to anything but empty, "false" or "0".</summary>
    public static bool UnderCi(Func<string, string?> environment) =>
        environment(CiVariable) is { Length: > 0 } ci && !ci.Equals("false", StringComparison.OrdinalIgnoreCase) && ci != "0";

    public static bool Accepting => AcceptRequested(Environment.GetEnvironmentVariable) && !UnderCi(Environment.GetEnvironmentVariable);

    public static void Match(string name, string actual) => MatchFile(PathOf(name), actual, Environment.GetEnvironmentVariable);

    /// <summary>
    /// Compares <paramref name="actual"/> with the golden file at <paramref name="path"/>; with acceptance requested (and not
    /// under CI) writes it instead. Acceptance requested under CI fails before anything is compared or written.
    /// </summary>
    public static void MatchFile(string path, string actual, Func<string, string?> environment)
    {
        actual = Normalize(actual);
        if (AcceptRequested(environment))
        {
            Assert.False(UnderCi(environment),
                $"{AcceptVariable}=1 is refused under CI ({CiVariable}={environment(CiVariable)}): snapshots are accepted on a developer machine, reviewed and committed; CI only compares ({path})");
            System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, actual);
            return;
        }
        Assert.True(File.Exists(path), $"snapshot {path} does not exist; run the tests with {AcceptVariable}=1 to write it, then review and commit it");
        var difference = FirstDifference(Normalize(File.ReadAllText(path)), actual);
        Assert.True(difference is null, $"generated source differs from snapshot {path}: {difference}\n(run with {AcceptVariable}=1 to accept the new output)");
    }

    /// <summary>Line endings as \n, so that a checkout with CRLF still matches.</summary>
    private static string Normalize(string text) => text.Replace("\r\n", "\n");

    /// <summary>"line N: expected `...` but got `...`", or null when equal.</summary>
    public static string? FirstDifference(string expected, string actual)
    {
        if (expected == actual) return null;
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        for (int i = 0; i < Math.Max(e.Length, a.Length); i++)
        {
            string? el = i < e.Length ? e[i] : null;
            string? al = i < a.Length ? a[i] : null;
            if (el != al)
                return $"line {i + 1}: expected {(el is null ? "<end of file>" : "`" + el + "`")} but got {(al is null ? "<end of file>" : "`" + al + "`")}";
        }
        return "the texts differ"; // unreachable: equal lines mean equal texts
    }
}
