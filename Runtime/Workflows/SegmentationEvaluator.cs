using EMANet.Runtime.Data;
using EMANet.Runtime.Evaluation;
using EMANet.Runtime.Networks;
using static TorchSharp.torch;

namespace EMANet.Runtime.Workflows;

/// <summary>mIoU, per-class IoU and pixel accuracy of a network on a dataset, with any inference strategy.</summary>
public static class SegmentationEvaluator
{
    /// <param name="engine">What computes the logits; null = the network's own forward.</param>
    public static SegmentationMetrics Evaluate(nn.Module<Tensor, Tensor> network, ISegmentationDataset dataset, IInferenceStrategy strategy, int? limit = null, IInferenceEngine? engine = null)
    {
        engine ??= new TorchInferenceEngine(network);
        bool wasTraining = network.training;
        network.eval();
        var device = network.parameters().FirstOrDefault()?.device ?? CPU;
        var matrix = new ConfusionMatrix(dataset.Classes);
        try
        {
            using var loader = new SegmentationBatchLoader(dataset, EvaluationTransform.Instance, BatchLoaderOptions.ForEvaluation());
            int seen = 0;
            foreach (var batch in loader.Epoch(0))
            {
                using (batch)
                using (var scope = NewDisposeScope())
                using (no_grad())
                {
                    var images = batch.Images.to(device);
                    var predictions = strategy.Predict(engine.Logits, images);   // float32 logits whatever the network's precision
                    matrix.Update(predictions.cpu(), batch.Labels);
                }
                seen += batch.Count;
                if (limit is { } l && seen >= l) break;
            }
        }
        finally
        {
            network.train(wasTraining);
        }
        return matrix.Compute(dataset.ClassNames);
    }
}
