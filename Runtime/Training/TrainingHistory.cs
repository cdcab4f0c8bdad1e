using System.Globalization;
using System.Text;

namespace EMANet.Runtime.Training;

/// <summary>One optimizer step: the iteration it completed (1-based), its loss and learning rate.</summary>
public readonly record struct StepRecord(int Iteration, double Loss, double LearningRate);

/// <summary>One validation: the iteration after which it ran and the mIoU it measured (0..1).</summary>
public readonly record struct EvaluationRecord(int Iteration, double MeanIoU);

/// <summary>The curves of a run: every step's loss and lr, every validation's mIoU. Travels inside checkpoints so a resumed run keeps its whole history.</summary>
public sealed class TrainingHistory
{
    private const string Header = "iteration,loss,lr,val_miou";
    private readonly List<StepRecord> _steps = [];
    private readonly List<EvaluationRecord> _evaluations = [];

    public IReadOnlyList<StepRecord> Steps => _steps;
    public IReadOnlyList<EvaluationRecord> Evaluations => _evaluations;

    public void Add(StepRecord step) => _steps.Add(step);
    public void Add(EvaluationRecord evaluation) => _evaluations.Add(evaluation);

    /// <summary>
    /// The curves as CSV: one row per step (iteration, loss, lr, val_miou where a validation ran
    /// after that step, else empty); a validation without a step row gets a row of its own.
    /// Numbers use the invariant culture and round-trip exactly.
    /// </summary>
    public string ToCsv()
    {
        var builder = new StringBuilder(Header).Append('\n');
        var evaluations = _evaluations.GroupBy(e => e.Iteration).ToDictionary(g => g.Key, g => g.Last().MeanIoU);
        var written = new HashSet<int>();
        var stepIterations = _steps.Select(s => s.Iteration).ToHashSet();
        var ordered = _steps.Select(s => (s.Iteration, Step: (StepRecord?)s))
            .Concat(_evaluations.Where(e => !stepIterations.Contains(e.Iteration)).DistinctBy(e => e.Iteration).Select(e => (e.Iteration, Step: (StepRecord?)null)))
            .OrderBy(r => r.Iteration);
        foreach (var (iteration, step) in ordered)
        {
            builder.Append(iteration.ToString(CultureInfo.InvariantCulture)).Append(',');
            if (step is { } s)
                builder.Append(s.Loss.ToString("R", CultureInfo.InvariantCulture)).Append(',').Append(s.LearningRate.ToString("R", CultureInfo.InvariantCulture));
            else
                builder.Append(',');
            builder.Append(',');
            if (written.Add(iteration) && evaluations.TryGetValue(iteration, out var miou))
                builder.Append(miou.ToString("R", CultureInfo.InvariantCulture));
            builder.Append('\n');
        }
        return builder.ToString();
    }

    public static TrainingHistory FromCsv(string csv)
    {
        var history = new TrainingHistory();
        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0 || lines[0].TrimEnd('\r') != Header)
            throw new FormatException($"training history: the first line is not '{Header}'");
        for (var i = 1; i < lines.Length; i++)
        {
            var fields = lines[i].TrimEnd('\r').Split(',');
            if (fields.Length != 4) throw new FormatException($"training history line {i + 1}: expected 4 fields, found {fields.Length}");
            var iteration = int.Parse(fields[0], NumberStyles.Integer, CultureInfo.InvariantCulture);
            if (fields[1].Length > 0)
                history.Add(new StepRecord(iteration, Number(fields[1], i), Number(fields[2], i)));
            if (fields[3].Length > 0)
                history.Add(new EvaluationRecord(iteration, Number(fields[3], i)));
        }
        return history;
    }

    private static double Number(string text, int line) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new FormatException($"training history line {line + 1}: '{text}' is not a number");
}
