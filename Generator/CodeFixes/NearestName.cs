using System;
using System.Collections.Generic;
using System.Linq;

namespace EMANet.Generator.CodeFixes;

/// <summary>
/// The known name a misspelt one most likely meant, by edit distance (insertions, deletions, substitutions and swaps of
/// two neighbouring characters each count 1: the optimal-string-alignment distance). A name is offered only when it is
/// clearly the nearest: at most <see cref="MaxDistance"/> edits away and at least one edit nearer than every other name.
/// </summary>
public static class NearestName
{
    /// <summary>At most a third of the longer name's characters (at least one, at most three) may differ.</summary>
    public static int MaxDistance(string typed, string candidate) => Math.Min(3, Math.Max(1, Math.Max(typed.Length, candidate.Length) / 3));

    /// <summary>The clearly nearest of <paramref name="known"/> to <paramref name="typed"/>, or null when none is (too far, or a tie).</summary>
    public static string? Find(string typed, IEnumerable<string> known)
    {
        var ranked = known
            .Where(k => k.Length > 0 && !string.Equals(k, typed, StringComparison.Ordinal))
            .Distinct(StringComparer.Ordinal)
            .Select(k => (Name: k, Distance: Distance(typed, k)))
            .OrderBy(c => c.Distance)
            .ToArray();
        if (ranked.Length == 0) return null;
        var best = ranked[0];
        if (best.Distance > MaxDistance(typed, best.Name)) return null;
        if (ranked.Length > 1 && ranked[1].Distance == best.Distance) return null;
        return best.Name;
    }

    /// <summary>Optimal-string-alignment distance between <paramref name="a"/> and <paramref name="b"/> (ordinal, case-sensitive, as the engine looks names up).</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                int value = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                    value = Math.Min(value, d[i - 2, j - 2] + 1);
                d[i, j] = value;
            }
        return d[a.Length, b.Length];
    }
}
