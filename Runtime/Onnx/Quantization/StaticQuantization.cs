using System.Globalization;
using EMANet.Runtime.Data;
using EMANet.Runtime.Evaluation;
using EMANet.Runtime.Onnx.Proto;
using static TorchSharp.torch;

namespace EMANet.Runtime.Onnx.Quantization;

/// <summary>
/// Post-training static int8 quantization of a generated network's ONNX export: export, MinMax calibration on images of a
/// dataset, QDQ insertion (<see cref="QdqQuantizer"/>), following ONNX Runtime's <c>quantize_static</c> (QDQ format,
/// per-channel int8 weights, uint8 activations). The quantized model runs in ONNX Runtime (<see cref="OnnxRuntimeEngine"/>), or any
/// runtime that reads QDQ models.
/// </summary>
public static class StaticQuantization
{
    /// <summary>The number of calibration images when none is given: a few hundred, as ONNX Runtime's examples use.</summary>
    public const int DefaultCalibrationImages = 256;

    /// <summary>
    /// The QDQ model of <paramref name="network"/> (exported as <paramref name="export"/> says; <b>fuses the network in place</b>),
    /// calibrated on the first <paramref name="images"/> images of <paramref name="calibration"/> (normalised as for evaluation)
    /// run through <paramref name="strategy"/>, the inference strategy the model will be used with. Calibration runs on the
    /// dynamic-axes export (the same nodes and names as a fixed-size one), so images of any size the network accepts calibrate.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="images"/> is not positive, or the dataset is empty.</exception>
    public static ModelProto Quantize(nn.Module<Tensor, Tensor> network, OnnxExportOptions export, ISegmentationDataset calibration,
        IInferenceStrategy strategy, int images = DefaultCalibrationImages, OnnxRuntimeOptions? runtime = null)
    {
        ArgumentNullException.ThrowIfNull(calibration);
        if (images <= 0) throw new ArgumentException($"calibration: {images} is not a positive number of images", nameof(images));
        if (calibration.Count == 0) throw new ArgumentException($"calibration: dataset {calibration.Name} has no images", nameof(calibration));
        var model = OnnxExporter.Export(network, export);
        var quantizer = new QdqQuantizer(model);
        var calibrationModel = export.DynamicAxes ? model : OnnxExporter.Export(network, export with { DynamicAxes = true });
        using var calibrator = new ActivationCalibrator(calibrationModel, quantizer.CalibrationTensors, runtime);
        int seen = 0;
        using (var loader = new SegmentationBatchLoader(calibration, EvaluationTransform.Instance, BatchLoaderOptions.ForEvaluation()))
        {
            foreach (var batch in loader.Epoch(0))
            {
                using (batch)
                using (var scope = NewDisposeScope())
                using (no_grad())
                {
                    strategy.Scores(calibrator.Logits, batch.Images);
                }
                seen += batch.Count;
                if (seen >= images) break;
            }
        }
        return quantizer.Quantize(calibrator.Ranges, Describe(seen, calibration.Name));
    }

    /// <summary>
    /// The QDQ model of the float32 <paramref name="model"/>, calibrated on <paramref name="batches"/> (normalised B x C x H x W
    /// float32 batches the model accepts) run whole. <paramref name="source"/> names them in the model's metadata.
    /// </summary>
    /// <exception cref="ArgumentException">No batch was given.</exception>
    public static ModelProto Quantize(ModelProto model, IEnumerable<Tensor> batches, string source, OnnxRuntimeOptions? runtime = null)
    {
        var quantizer = new QdqQuantizer(model);
        using var calibrator = new ActivationCalibrator(model, quantizer.CalibrationTensors, runtime);
        int seen = 0;
        foreach (var batch in batches)
        {
            using var logits = calibrator.Logits(batch);
            seen += (int)batch.shape[0];
        }
        if (seen == 0) throw new ArgumentException("calibration: no batch given", nameof(batches));
        return quantizer.Quantize(calibrator.Ranges, Describe(seen, source));
    }

    private static string Describe(int images, string source) =>
        string.Create(CultureInfo.InvariantCulture,
            $"int8 static, QDQ (uint8 asymmetric activations, int8 symmetric per-channel weights, int32 biases), MinMax calibration on {images} images of {source}");
}
