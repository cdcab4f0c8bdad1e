using EMANet.Runtime.Training;

namespace EMANet.Tests.Training;

public class ReportingTests
{
    private static TrainingHistory History()
    {
        var history = new TrainingHistory();
        for (var i = 1; i <= 60; i++) history.Add(new StepRecord(i, 2.0 / Math.Sqrt(i) + 0.1 * Math.Sin(i), PolyLearningRate.At(0.009, i - 1, 60, 0.9)));
        history.Add(new EvaluationRecord(30, 0.41234567890123));
        history.Add(new EvaluationRecord(60, 0.5));
        return history;
    }

    [Fact]
    public void History_csv_round_trips_exactly()
    {
        var history = History();
        var csv = history.ToCsv();
        var back = TrainingHistory.FromCsv(csv);
        Assert.Equal(history.Steps, back.Steps);
        Assert.Equal(history.Evaluations, back.Evaluations);
        Assert.Equal(csv, back.ToCsv());
        Assert.Throws<FormatException>(() => TrainingHistory.FromCsv("iteration,loss\n1,2\n"));
    }

    [Fact]
    public void Plot_renders_a_png_of_the_requested_size_headless()
    {
        var png = TrainingPlot.RenderPng(History(), "tiny: iteration 60/60", 640, 360);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        int BigEndian(int offset) => (png[offset] << 24) | (png[offset + 1] << 16) | (png[offset + 2] << 8) | png[offset + 3];
        Assert.Equal(640, BigEndian(16)); // IHDR width
        Assert.Equal(360, BigEndian(20)); // IHDR height
        Assert.True(png.Length > 5_000, $"only {png.Length} bytes: an empty plot?");
        var empty = TrainingPlot.RenderPng(new TrainingHistory(), "empty", 200, 100);
        Assert.Equal(0x89, empty[0]);
    }

    [Fact]
    public void Progress_rewrites_one_line_on_a_terminal_and_prints_lines_when_redirected()
    {
        TrainingProgress At(int i) => new(i, 100, 1.0 / i, 0.009, 12.5, TimeSpan.FromSeconds(i), TimeSpan.FromSeconds(3725));

        var terminal = new StringWriter();
        var interactive = new ConsoleProgress(terminal, interactive: true, logInterval: 10);
        interactive.OnStep(At(1));
        Thread.Sleep(120);
        interactive.OnStep(At(2));
        interactive.OnEvaluation(2, 0.5);
        interactive.OnStep(At(100));
        var text = terminal.ToString();
        Assert.StartsWith("\r[  1/100]", text);
        Assert.Contains("\r[  2/100]", text);
        Assert.Contains("\niteration 2: validation mIoU 50.00%\n", text);
        Assert.Contains("\r[100/100] 100.0%  loss 0.0100  lr 9.00e-03  12.5 img/s  ETA 1:02:05", text);

        var log = new StringWriter();
        var redirected = new ConsoleProgress(log, interactive: false, logInterval: 10);
        for (var i = 1; i <= 100; i++) redirected.OnStep(At(i));
        var lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(10, lines.Length);
        Assert.DoesNotContain('\r', log.ToString());
        Assert.StartsWith("[ 10/100]  10.0%", lines[0]);
    }
}
