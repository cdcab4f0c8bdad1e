using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace EMANet.Tests.Training;

/// <summary>The guard around torch's global generator (see <see cref="TorchGlobalState"/>); this class runs in parallel.</summary>
public class TorchGlobalStateGuardTests
{
    private static string TestsFolder([CallerFilePath] string thisFile = "") => Path.GetDirectoryName(Path.GetDirectoryName(thisFile)!)!;

    private static IEnumerable<string> TestSources() =>
        Directory.EnumerateFiles(TestsFolder(), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj"));

    [Fact]
    public void Seeding_from_a_class_outside_the_collection_is_refused()
    {
        var error = Assert.Throws<InvalidOperationException>(() => TorchGlobalState.Seed(1));
        Assert.Contains("outside [Collection(nameof(TorchGlobalState))]", error.Message);
        Assert.False(TorchGlobalState.InCollection(typeof(TorchGlobalStateGuardTests)));
        Assert.True(TorchGlobalState.InCollection(typeof(TrainerTests)));
    }

    [Fact]
    public void Test_sources_seed_only_through_the_guard_and_seeding_or_training_classes_are_in_the_collection()
    {
        var sources = TestSources().ToList();
        Assert.Contains(sources, f => f.EndsWith(Path.Combine("Training", "TrainerTests.cs")));   // the scan sees the sources
        var problems = new List<string>();
        foreach (var file in sources)
        {
            var name = Path.GetRelativePath(TestsFolder(), file);
            if (Path.GetFileName(file) is "TorchGlobalState.cs" or "TorchGlobalStateTests.cs") continue;
            var text = File.ReadAllText(file);
            if (Regex.IsMatch(text, @"manual_seed\s*\("))
                problems.Add($"{name}: calls manual_seed directly; use TorchGlobalState.Seed (it checks the collection)");
            var usesGlobal = text.Contains("TorchGlobalState.Seed(") || Regex.IsMatch(text, @"new\s+Trainer\s*\(");
            if (usesGlobal && !text.Contains("[Collection(nameof(TorchGlobalState))]"))
                problems.Add($"{name}: seeds torch's global generator or runs the Trainer (which re-seeds it each step) outside [Collection(nameof(TorchGlobalState))]");
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }
}

/// <summary>Seeding from inside the collection works and makes the global generator repeat.</summary>
[Collection(nameof(TorchGlobalState))]
public class TorchGlobalStateSeedTests
{
    [Fact]
    public void Seeding_inside_the_collection_repeats_the_draws()
    {
        using var scope = NewDisposeScope();
        TorchGlobalState.Seed(5);
        var first = randn(8);
        TorchGlobalState.Seed(5);
        var again = randn(8);
        var other = randn(8);
        Assert.True(first.eq(again).all().item<bool>());
        Assert.False(first.eq(other).all().item<bool>());
    }
}
