using EMANet.Runtime.IO;
namespace EMANet.Runtime.Training;

/// <summary>The curves of a run as a PNG (ScottPlot, rendered headless through SkiaSharp): loss on the left axis, validation mIoU (%) on the right.</summary>
public static class TrainingPlot
{
    /// <summary>Renders the plot to PNG bytes.</summary>
    public static byte[] RenderPng(TrainingHistory history, string title, int width = 1000, int height = 560)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), "plot size must be positive");
        var plot = new ScottPlot.Plot();
        plot.Title(title);
        plot.XLabel("iteration");
        plot.YLabel("loss");

        if (history.Steps.Count > 0)
        {
            var xs = history.Steps.Select(s => (double)s.Iteration).ToArray();
            var loss = history.Steps.Select(s => s.Loss).ToArray();
            var raw = plot.Add.ScatterLine(xs, loss);
            raw.LegendText = "loss";
            raw.Color = ScottPlot.Colors.SteelBlue;
            raw.LineWidth = 1.5f;
            if (loss.Length >= 20)
            {
                raw.Color = ScottPlot.Colors.SteelBlue.WithAlpha(0.35);
                raw.LineWidth = 1;
                var smooth = plot.Add.ScatterLine(xs, MovingAverage(loss, Math.Max(5, loss.Length / 50)));
                smooth.LegendText = "loss (moving average)";
                smooth.Color = ScottPlot.Colors.SteelBlue;
                smooth.LineWidth = 2;
            }
        }

        if (history.Evaluations.Count > 0)
        {
            var miou = plot.Add.Scatter(
                history.Evaluations.Select(e => (double)e.Iteration).ToArray(),
                history.Evaluations.Select(e => e.MeanIoU * 100).ToArray());
            miou.LegendText = "val mIoU (%)";
            miou.Color = ScottPlot.Colors.OrangeRed;
            miou.LineWidth = 2;
            miou.MarkerSize = 7;
            miou.Axes.YAxis = plot.Axes.Right;
            plot.Axes.Right.Label.Text = "val mIoU (%)";
        }

        if (history.Steps.Count + history.Evaluations.Count > 0) plot.ShowLegend(ScottPlot.Edge.Bottom);   // outside the data area: never over a curve or the last validation point
        return plot.GetImageBytes(width, height, ScottPlot.ImageFormat.Png);
    }

    /// <summary>Writes the plot atomically.</summary>
    public static void SavePng(TrainingHistory history, string path, string title, int width = 1000, int height = 560) =>
        AtomicFile.WriteAllBytes(path, RenderPng(history, title, width, height));

    private static double[] MovingAverage(double[] values, int window)
    {
        var result = new double[values.Length];
        double sum = 0;
        for (var i = 0; i < values.Length; i++)
        {
            sum += values[i];
            if (i >= window) sum -= values[i - window];
            result[i] = sum / Math.Min(i + 1, window);
        }
        return result;
    }
}
