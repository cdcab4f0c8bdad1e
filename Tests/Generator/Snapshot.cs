using System.Runtime.CompilerServices;

namespace EMANet.Tests.Generator;

/// <summary>
/// Golden files for generated sources: Tests/Generator/Snapshots/NAME.g.cs.txt, found next to this
/// source file. A difference fails with the first differing line; EMANET_ACCEPT_SNAPSHOTS=1
/// (re)writes the file instead.
/// </summary>
internal static class Snapshot
{
    public const string AcceptVariable = "EMANET_ACCEPT_SNAPSHOTS";

    public static string Directory([CallerFilePath] string thisFile = "") =>
        Path.Combine(Path.GetDirectoryName(thisFile)!, "Snapshots");

    public static string PathOf(string name) => System.IO.Path.Combine(Directory(), name + ".g.cs.txt");

    public static bool Accepting => Environment.GetEnvironmentVariable(AcceptVariable) == "1";

    public static void Match(string name, string actual)
    {
        actual = Normalize(actual);
        var path = PathOf(name);
        if (Accepting)
        {
            System.IO.Directory.CreateDirectory(Directory());
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
