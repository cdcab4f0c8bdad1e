using System.Diagnostics;
using System.Globalization;

namespace EMANet.Runtime.Training;

/// <summary>
/// Progress on a console: on a terminal one line that rewrites itself (at most ten times a
/// second); when the output is redirected, a plain line every <c>logInterval</c> iterations, so
/// log files stay readable. Evaluations, checkpoints and the end get lines of their own.
/// </summary>
public sealed class ConsoleProgress : ITrainingMonitor
{
    private readonly TextWriter _writer;
    private readonly bool _interactive;
    private readonly int _logInterval;
    private readonly Stopwatch _sinceRedraw = Stopwatch.StartNew();
    private int _lastLength;
    private bool _lineOpen;

    public ConsoleProgress(TextWriter writer, bool interactive, int logInterval)
    {
        if (logInterval <= 0) throw new ArgumentOutOfRangeException(nameof(logInterval), logInterval, "must be positive");
        _writer = writer;
        _interactive = interactive;
        _logInterval = logInterval;
    }

    /// <summary>Standard output; rewriting the line only when it is a terminal.</summary>
    public static ConsoleProgress ForConsole(int logInterval) => new(Console.Out, !Console.IsOutputRedirected, logInterval);

    public void OnStart(RunConfiguration run, int startIteration) =>
        WriteLine(startIteration > 0
            ? $"resuming {run.Network} at iteration {startIteration}/{run.Training.Iterations}"
            : $"training {run.Network} ({run.Input}, {run.Classes} classes) for {run.Training.Iterations} iterations, batch {run.Training.BatchSize}");

    public void OnStep(TrainingProgress progress)
    {
        var last = progress.Iteration == progress.TotalIterations;
        if (_interactive)
        {
            if (!last && _lineOpen && _sinceRedraw.ElapsedMilliseconds < 100) return;
            _sinceRedraw.Restart();
            var line = Format(progress);
            _writer.Write("\r" + line + new string(' ', Math.Max(0, _lastLength - line.Length)));
            _lastLength = line.Length;
            _lineOpen = true;
            _writer.Flush();
        }
        else if (progress.Iteration % _logInterval == 0 || last)
        {
            WriteLine(Format(progress));
        }
    }

    public void OnEvaluation(int iteration, double meanIoU) =>
        WriteLine(string.Create(CultureInfo.InvariantCulture, $"iteration {iteration}: validation mIoU {meanIoU * 100:F2}%"));

    public void OnCheckpoint(int iteration, string path) => WriteLine($"iteration {iteration}: checkpoint {path}");

    public void OnStop(TrainingResult result) =>
        WriteLine(result.Completed
            ? $"finished {result.Iteration} iterations in {Duration(result.Elapsed)}"
            : $"stopped at iteration {result.Iteration} after {Duration(result.Elapsed)}" + (result.Checkpoint is null ? "" : $"; resume with {result.Checkpoint}"));

    /// <summary>"[  1200/30000]   4.0%  loss 0.8123  lr 8.67e-03  12.3 img/s  ETA 1:02:03".</summary>
    public static string Format(TrainingProgress p)
    {
        var width = p.TotalIterations.ToString(CultureInfo.InvariantCulture).Length;
        var percent = 100.0 * p.Iteration / p.TotalIterations;
        return string.Create(CultureInfo.InvariantCulture,
            $"[{p.Iteration.ToString(CultureInfo.InvariantCulture).PadLeft(width)}/{p.TotalIterations}] {percent,5:F1}%  loss {p.Loss:F4}  lr {p.LearningRate:0.00e+00}  {p.ImagesPerSecond:F1} img/s  ETA {Duration(p.Remaining)}");
    }

    private static string Duration(TimeSpan span) =>
        span.TotalHours >= 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours}:{span.Minutes:D2}:{span.Seconds:D2}")
            : string.Create(CultureInfo.InvariantCulture, $"{span.Minutes}:{span.Seconds:D2}");

    private void WriteLine(string text)
    {
        if (_lineOpen)
        {
            _writer.WriteLine();
            _lineOpen = false;
            _lastLength = 0;
        }
        _writer.WriteLine(text);
        _writer.Flush();
    }
}
