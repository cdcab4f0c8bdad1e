using EMANet.Runtime.Data;
using EMANet.Runtime.Evaluation;
using EMANet.Runtime.Networks;
using EMANet.Runtime.Training;
using static TorchSharp.torch;

namespace EMANet.Runtime.Workflows;

/// <summary>
/// Opens a dataset spec (<see cref="DatasetFactory.Usage"/>) as a training run's data: augmented
/// batches at the network's input size from the train split, and a validation on the val split
/// that returns mIoU (single scale, whole image).
/// </summary>
public static class SegmentationDataSource
{
    public static bool Understands(string spec)
    {
        var kind = spec.Split(':')[0].Trim().ToLowerInvariant();
        return kind is "synthetic" or "fashion-mnist" or "voc" or "folder";
    }

    /// <summary>Number of classes of the dataset <paramref name="spec"/> names (the network's default when training on it).</summary>
    public static int ClassesOf(string spec) => DatasetFactory.Parse(spec, new DatasetOptions { Count = 1 }).Classes;

    /// <summary>
    /// Generated datasets: training scenes follow the run's seed; validation scenes are always
    /// those of seed 0, so that every run (and <c>emanet eval</c>) measures on the same set.
    /// </summary>
    private static DatasetOptions OptionsFor(TrainingDataRequest request, string split, Action<string>? warn) => new()
    {
        Split = split,
        Size = request.Input.Height,
        Seed = split == "val" ? 0 : unchecked((int)request.Options.Seed),
        Warn = warn,
    };

    /// <summary>The batches and validation of <paramref name="request"/>; <paramref name="validationLimit"/> (else the request's) caps the validation images.</summary>
    public static TrainingData Open(TrainingDataRequest request, Action<string>? warn = null, int? validationLimit = null)
    {
        validationLimit ??= request.ValidationLimit;
        var train = DatasetFactory.Parse(request.Spec, OptionsFor(request, request.Spec.StartsWith("voc", StringComparison.OrdinalIgnoreCase) ? "trainaug" : "train", warn));
        if (train.Classes != request.Classes)
            throw new ArgumentException($"--data '{request.Spec}' has {train.Classes} classes but the network is built for {request.Classes}; pass --classes {train.Classes}");
        var augmentation = new TrainingAugmentation(AugmentationOptions.WithCrop(request.Input.Height) with { CropWidth = request.Input.Width });
        var loader = new SegmentationBatchLoader(train, augmentation, new BatchLoaderOptions { BatchSize = request.Options.BatchSize, Seed = unchecked((int)request.Options.Seed) });
        var batches = new LoaderBatchSource(loader, $"{train.Name} ({train.Count} images), crop {request.Input.Height}x{request.Input.Width}");

        var validation = DatasetFactory.Parse(request.Spec, OptionsFor(request, "val", warn));
        Func<nn.Module<Tensor, Tensor>, double> evaluate = network =>
        {
            var strategy = network is ISegmentationNetwork s ? WholeImageInference.For(s) : WholeImageInference.ForOutputStride(request.OutputStride);
            return SegmentationEvaluator.Evaluate(network, validation, strategy, validationLimit).MeanIoU;
        };
        return new TrainingData(batches, evaluate);
    }

    private sealed class LoaderBatchSource(SegmentationBatchLoader loader, string description) : IBatchSource
    {
        public string Description { get; } = description;

        public IEnumerable<(Tensor Images, Tensor Labels)> Batches(int startIteration)
        {
            // The trainer disposes the tensors it receives; the batch object holds nothing else native.
            foreach (var batch in loader.Iterations(startIteration))
                yield return (batch.Images, batch.Labels);
        }
    }
}
