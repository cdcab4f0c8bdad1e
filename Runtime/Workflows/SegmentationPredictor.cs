using EMANet.Runtime.Data;
using EMANet.Runtime.Evaluation;
using EMANet.Runtime.Imaging;
using EMANet.Runtime.IO;
using EMANet.Runtime.Networks;
using EMANet.Runtime.Reports;
using static TorchSharp.torch;

namespace EMANet.Runtime.Workflows;

/// <summary>Where <see cref="SegmentationPredictor.Predict"/> writes; null = not written.</summary>
public sealed record PredictionOutputs(string MaskPng, string? OverlayPng = null, string? LogitsNpy = null, string? AttentionPng = null);

/// <summary>
/// Runs a network on one image (PNG/JPEG, normalised here) or one float32 N x C x H x W .npy
/// tensor (already normalised) and writes the VOC-coloured mask, an overlay, the raw logits and
/// the EMA responsibilities of a few bases.
/// </summary>
public static class SegmentationPredictor
{
    /// <param name="engine">What computes the logits; null = the network's own forward. The attention picture needs the network's
    /// forward (it reads the EMA unit's responsibilities), so it is refused with another engine.</param>
    public static IReadOnlyList<string> Predict(SegmentationNetwork network, string input, PredictionOutputs outputs, int attentionBases = 16, IInferenceEngine? engine = null)
    {
        engine ??= new TorchInferenceEngine(network);
        if (outputs.AttentionPng is not null && engine is not TorchInferenceEngine)
            throw new ArgumentException($"--attention reads the EMA unit's responsibilities from the TorchSharp forward; it is not available with {engine.Description}");
        network.eval();
        var device = network.parameters().FirstOrDefault()?.device ?? CPU;
        bool isTensor = input.EndsWith(".npy", StringComparison.OrdinalIgnoreCase);
        RgbImage? image = isTensor ? null : ImageFile.ReadRgb(input);
        using var scope = NewDisposeScope();
        var batch = isTensor ? NpyFile.Read(input).to(float32) : ToBatch(image!);
        if (batch.dim() != 4)
            throw new ArgumentException($"{input}: expected an N x C x H x W tensor, got [{string.Join(", ", batch.shape)}]");
        int stride = network.OutputStride;
        var emaUnits = network.EmaUnits;
        if (outputs.AttentionPng is not null && emaUnits.Count > 0) emaUnits[0].CaptureResponsibilities = true;
        Tensor logits;
        using (no_grad())
            logits = WholeImageInference.For(network).Scores(engine.Logits, batch.to(device)).cpu();

        var written = new List<string>();
        var prediction = logits[0].argmax(0).to(uint8);
        var mask = new LabelMask((int)prediction.shape[0], (int)prediction.shape[1], prediction.data<byte>().ToArray());
        PngWriter.WriteIndexed(outputs.MaskPng, mask, VocPalette.Colors);
        written.Add(outputs.MaskPng);
        if (outputs.OverlayPng is not null && image is not null)
        {
            PngWriter.WriteRgb(outputs.OverlayPng, MaskColorizer.Overlay(image, mask));
            written.Add(outputs.OverlayPng);
        }
        if (outputs.LogitsNpy is not null)
        {
            AtomicFile.Write(outputs.LogitsNpy, stream => NpyFile.Write(stream, logits.contiguous()));
            written.Add(outputs.LogitsNpy);
        }
        if (outputs.AttentionPng is not null)
        {
            if (emaUnits.Count == 0 || emaUnits[0].LastResponsibilities is null)
                throw new InvalidOperationException($"--attention: network '{network.Descriptor.Name}' has no EMA unit");
            var unit = emaUnits[0];
            var (h, w) = unit.LastFeatureSize;
            AttentionFigure.SavePng(outputs.AttentionPng, unit.LastResponsibilities![0], h, w, image, attentionBases);
            emaUnits[0].CaptureResponsibilities = false;
            written.Add(outputs.AttentionPng);
        }
        return written;
    }

    private static Tensor ToBatch(RgbImage image) =>
        tensor(ImageNormalization.ToPlanar(image), new long[] { 1, 3, image.Height, image.Width });
}
