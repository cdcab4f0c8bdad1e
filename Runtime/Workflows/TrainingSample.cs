using EMANet.Runtime.Data;
using EMANet.Runtime.Imaging;
using EMANet.Runtime.Networks;

namespace EMANet.Runtime.Workflows;

/// <summary>
/// The pictures a run on a built-in dataset ends with: the first validation scene, its label, and
/// what <c>emanet predict</c> makes of it from the run's checkpoint (mask, overlay, attention),
/// through the same code path (<see cref="TrainedNetwork.Load"/>, then <see cref="SegmentationPredictor.Predict"/>
/// on the written image), so that the picture equals what a user gets from the checkpoint.
/// </summary>
public static class TrainingSample
{
    public const string ImageFileName = "sample.png";
    public const string LabelFileName = "sample-label.png";
    public const string PredictionFileName = "sample-prediction.png";
    public const string OverlayFileName = "sample-overlay.png";
    public const string AttentionFileName = "sample-attention.png";

    /// <summary>
    /// Writes the sample files into <paramref name="outputDirectory"/>; returns their paths.
    /// <paramref name="dataSpec"/> is the run's dataset (see <see cref="DatasetFactory"/>).
    /// </summary>
    public static IReadOnlyList<string> Write(NetworkEntry entry, string checkpoint, string dataSpec, string outputDirectory)
    {
        using var network = TrainedNetwork.Load(entry, checkpoint);
        var sample = DatasetFactory.Parse(dataSpec, new DatasetOptions { Split = "val", Size = network.InputShape.Height }).Get(0);
        var imagePath = Path.Combine(outputDirectory, ImageFileName);
        PngWriter.WriteRgb(imagePath, sample.Image);
        PngWriter.WriteIndexed(Path.Combine(outputDirectory, LabelFileName), sample.Label, VocPalette.Colors);
        var written = SegmentationPredictor.Predict(network, imagePath, new PredictionOutputs(
            Path.Combine(outputDirectory, PredictionFileName),
            Path.Combine(outputDirectory, OverlayFileName),
            AttentionPng: network.EmaUnits.Count > 0 ? Path.Combine(outputDirectory, AttentionFileName) : null));
        return [imagePath, Path.Combine(outputDirectory, LabelFileName), .. written];
    }
}
