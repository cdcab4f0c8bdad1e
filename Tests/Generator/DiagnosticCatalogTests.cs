extern alias GeneratorAssembly;

using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using EMANet.Engine;
using GeneratorAssembly::EMANet.Generator.Diagnostics;
using Microsoft.CodeAnalysis;

namespace EMANet.Tests.Generator;

/// <summary>
/// The descriptors: a title, a message format of real words with arguments, an absolute help link to the id's section of
/// docs/diagnostics.md, the severity of the one table (DiagnosticSeverities), and AnalyzerReleases.*.md rows that agree.
/// (The release-tracking rules RS2000-RS2008 of Microsoft.CodeAnalysis.Analyzers cannot check descriptors built by a
/// helper from a table, as DiagnosticCatalog does; this test checks the release files instead.)
/// </summary>
public class DiagnosticCatalogTests
{
    private static readonly DiagnosticDescriptor[] Descriptors = new NetworkDiagnosticsAnalyzer().SupportedDiagnostics.ToArray();

    private static readonly string[] Ids = typeof(DiagnosticIds).GetFields().Select(f => (string)f.GetValue(null)!).OrderBy(s => s, StringComparer.Ordinal).ToArray();

    private static string RepositoryFile(string relative, [CallerFilePath] string thisFile = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(thisFile)!, "..", "..", relative));

    [Fact]
    public void EveryId_HasOneDescriptor()
    {
        Assert.Equal(Ids, Descriptors.Select(d => d.Id).OrderBy(s => s, StringComparer.Ordinal));
    }

    [Fact]
    public void EveryDescriptor_HasATitle_AndAMessageFormatOfWordsWithArguments()
    {
        Assert.All(Descriptors, d =>
        {
            var title = d.Title.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var format = d.MessageFormat.ToString(System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(title.Length >= 10 && !title.Contains('{'), $"{d.Id}: title '{title}'");
            Assert.Contains("{0}", format);
            var words = Regex.Replace(format, @"\{\d+\}", "").Count(char.IsLetter);
            Assert.True(words >= 15, $"{d.Id}: the message format '{format}' has too few words of its own");
        });
    }

    [Fact]
    public void EveryDescriptor_LinksToItsSectionOfTheDiagnosticsPage()
    {
        var page = File.ReadAllText(RepositoryFile("docs/diagnostics.md"));
        Assert.All(Descriptors, d =>
        {
            Assert.Equal("https://github.com/emanet-gen/EMANet.Gen/blob/main/docs/diagnostics.md#" + d.Id.ToLowerInvariant(), d.HelpLinkUri);
            Assert.True(Uri.TryCreate(d.HelpLinkUri, UriKind.Absolute, out _), d.HelpLinkUri);
            // "## EMA0004" gives GitHub's anchor "#ema0004"; the section starts with the title and the severity.
            var section = Regex.Match(page, $@"^## {d.Id}\n\n\*\*(?<title>[^*]+)\*\* \((?<severity>error|warning)\)", RegexOptions.Multiline);
            Assert.True(section.Success, $"docs/diagnostics.md has no section '## {d.Id}' starting with its title and severity");
            Assert.Equal(d.Title.ToString(System.Globalization.CultureInfo.InvariantCulture), section.Groups["title"].Value);
            Assert.Equal(d.DefaultSeverity.ToString().ToLowerInvariant(), section.Groups["severity"].Value);
        });
    }

    [Fact]
    public void EverySeverity_ComesFromTheOneTable()
    {
        Assert.All(Ids, id => Assert.True(DiagnosticSeverities.Decides(id), $"{id} is missing from DiagnosticSeverities"));
        Assert.All(Descriptors, d => Assert.Equal(
            DiagnosticSeverities.Of(d.Id) == FindingSeverity.Warning ? DiagnosticSeverity.Warning : DiagnosticSeverity.Error, d.DefaultSeverity));
        Assert.Equal(new[] { "EMA0013", "EMA0017" }, Ids.Where(id => DiagnosticSeverities.Of(id) == FindingSeverity.Warning));
    }

    /// <summary>The engine's findings carry the table's severity (a warning and an error of one declaration).</summary>
    [Fact]
    public void EngineFindings_TakeTheTablesSeverity()
    {
        var run = GeneratorHarness.Run(GeneratorHarness.Compile("""
            namespace T;
            [SegmentationNetwork("mixed", InputHeight = 65, InputWidth = 65)]
            public partial class Mixed
            {
                [Conv(8, 3, Padding = 0)] private readonly ConvBlock a;
                [Conv(0, 3)] private readonly ConvBlock b;
            }
            """), compileOutput: false).AssertNoCrash();
        Assert.Contains(run.Ema, d => d.Id == "EMA0017" && d.Severity == DiagnosticSeverity.Warning);
        Assert.Contains(run.Ema, d => d.Id == "EMA0003" && d.Severity == DiagnosticSeverity.Error);
    }

    /// <summary>Unshipped.md lists every rule with the descriptor's category, severity and title; Shipped.md lists none yet (no release).</summary>
    [Fact]
    public void ReleaseTrackingFiles_ListEveryRuleAsItIs()
    {
        var rows = File.ReadAllLines(RepositoryFile("Generator/AnalyzerReleases.Unshipped.md"))
            .Where(l => l.StartsWith("EMA", StringComparison.Ordinal))
            .Select(l => l.Split('|').Select(c => c.Trim()).ToArray())
            .ToArray();
        Assert.Equal(Ids, rows.Select(r => r[0]).OrderBy(s => s, StringComparer.Ordinal));
        foreach (var row in rows)
        {
            var d = Descriptors.Single(x => x.Id == row[0]);
            Assert.Equal(d.Category, row[1]);
            Assert.Equal(d.DefaultSeverity.ToString(), row[2]);
            Assert.Equal(d.Title.ToString(System.Globalization.CultureInfo.InvariantCulture), row[3]);
        }
        Assert.DoesNotContain(File.ReadAllLines(RepositoryFile("Generator/AnalyzerReleases.Shipped.md")), l => l.StartsWith("EMA", StringComparison.Ordinal));
    }
}
