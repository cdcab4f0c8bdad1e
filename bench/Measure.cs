using System.Diagnostics;
using System.Globalization;

namespace EMANet.Bench;

/// <summary>Stopwatch timing (warm-up, then median of N), process memory and load readings.</summary>
internal static class Measure
{
    public sealed record Timing(double[] Seconds)
    {
        public double Median => Percentile(0.5);
        public double Min => Seconds.Min();
        public double Max => Seconds.Max();

        private double Percentile(double p)
        {
            var s = Seconds.OrderBy(x => x).ToArray();
            double rank = p * (s.Length - 1);
            int lo = (int)Math.Floor(rank), hi = (int)Math.Ceiling(rank);
            return s[lo] + (s[hi] - s[lo]) * (rank - lo);
        }
    }

    /// <summary>Runs <paramref name="action"/> <paramref name="warmup"/> times untimed, then <paramref name="runs"/> times timed.</summary>
    public static Timing Time(Action action, int warmup, int runs, string label)
    {
        for (int i = 0; i < warmup; i++)
        {
            var sw = Stopwatch.StartNew();
            action();
            Console.Error.WriteLine($"  {label} warm-up {i + 1}/{warmup}: {sw.Elapsed.TotalSeconds:F3} s");
        }
        var seconds = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            var sw = Stopwatch.StartNew();
            action();
            seconds[i] = sw.Elapsed.TotalSeconds;
            Console.Error.WriteLine($"  {label} run {i + 1}/{runs}: {seconds[i]:F3} s");
        }
        return new Timing(seconds);
    }

    /// <summary>A field of /proc/self/status in bytes (VmHWM = peak resident set, VmRSS = current).</summary>
    public static long ProcStatusBytes(string field)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        return -1;
    }

    public static double[] LoadAverage() =>
        File.ReadAllText("/proc/loadavg").Split(' ').Take(3).Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
}
