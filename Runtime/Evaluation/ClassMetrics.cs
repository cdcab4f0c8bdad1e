namespace EMANet.Runtime.Evaluation;

/// <summary>
/// One class's results. <see cref="IoU"/> is NaN when the class is in neither labels nor predictions;
/// <see cref="Accuracy"/> (recall) is NaN when the class is not in the labels.
/// </summary>
public sealed record ClassMetrics(string Name, double IoU, double Accuracy, long LabelPixels, long PredictedPixels);
