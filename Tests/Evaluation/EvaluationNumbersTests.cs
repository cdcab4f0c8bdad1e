using System.Globalization;
using System.Text.RegularExpressions;
using EMANet.Cli;
using EMANet.Runtime.Data;
using EMANet.Runtime.Evaluation;
using EMANet.Runtime.Imaging;
using EMANet.Runtime.IO;
using EMANet.Runtime.Networks;
using EMANet.Runtime.Training;
using EMANet.Runtime.Workflows;
using EMANet.Tests.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace EMANet.Tests.Evaluation;

/// <summary>A 1x1 convolution from the normalised RGB pixel to 4 class scores: its prediction of each pixel is known by hand.</summary>
[SegmentationNetwork("pixel-classifier-test", Classes = 4, InputHeight = 9, InputWidth = 9)]
public partial class PixelClassifierTestNet
{
    [Classifier] private readonly Conv2d classifier;
}

/// <summary>
/// The numbers of an evaluation, against a confusion matrix counted here with plain loops: a folder dataset of a few
/// PNG images and masks (void pixels included), a network whose prediction of every pixel is computed by hand, and the
/// results through <see cref="SegmentationEvaluator"/>, <see cref="SegmentationDataSource"/>'s validation and
/// <c>emanet eval</c>'s printed table.
/// In the global-generator collection: one test trains a checkpoint (the Trainer re-seeds torch's generator) and
/// the CLI tests are there too.
/// </summary>
[Collection(nameof(TorchGlobalState))]
public class EvaluationNumbersTests : IDisposable
{
    private const int Classes = 4;
    private static readonly (int Height, int Width)[] Sizes = [(7, 9), (9, 9), (10, 6)];
    private static readonly double[] Mean = [0.485, 0.456, 0.406], Std = [0.229, 0.224, 0.225];   // ImageNet, as documented by ImageNormalization

    private readonly TempFolders _temp = new();

    public void Dispose() => _temp.Dispose();

    private sealed record Folder(string Spec, List<RgbImage> Images, List<LabelMask> Masks);

    /// <summary>
    /// Random colours and random labels in {0, 1, 2, 255} (class 3 never labelled), written as RGB and grey PNGs. Colours
    /// whose two largest normalised channels lie within 0.05 are drawn again, so that float rounding cannot flip a prediction.
    /// </summary>
    private Folder WriteFolder()
    {
        var root = _temp.New("eval-folder");
        var imageDirectory = Directory.CreateDirectory(Path.Combine(root, "images")).FullName;
        var maskDirectory = Directory.CreateDirectory(Path.Combine(root, "masks")).FullName;
        var random = new Random(20261130);
        var images = new List<RgbImage>();
        var masks = new List<LabelMask>();
        for (var n = 0; n < Sizes.Length; n++)
        {
            var (height, width) = Sizes[n];
            var image = new RgbImage(height, width);
            var mask = new LabelMask(height, width);
            for (var y = 0; y < height; y++)
                for (var x = 0; x < width; x++)
                {
                    Rgb colour;
                    do colour = new Rgb((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
                    while (Margin(Scores(colour, IdentityWeights, IdentityBias)) < 0.05);
                    image[y, x] = colour;
                    var label = random.Next(10);
                    mask[y, x] = (byte)(label == 0 ? 255 : label % 3);
                }
            PngWriter.WriteRgb(Path.Combine(imageDirectory, $"sample{n}.png"), image);
            PngWriter.WriteGrey(Path.Combine(maskDirectory, $"sample{n}.png"), mask);
            images.Add(image);
            masks.Add(mask);
        }
        return new Folder($"folder:images={imageDirectory},masks={maskDirectory},classes={Classes},image-ext=.png", images, masks);
    }

    /// <summary>Class k scores channel k (k &lt; 3); class 3 scores -100, never predicted.</summary>
    private static readonly double[,] IdentityWeights = { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 }, { 0, 0, 0 } };
    private static readonly double[] IdentityBias = [0, 0, 0, -100];

    private static double[] Scores(Rgb colour, double[,] weights, double[] bias)
    {
        double[] v = [(colour.R / 255.0 - Mean[0]) / Std[0], (colour.G / 255.0 - Mean[1]) / Std[1], (colour.B / 255.0 - Mean[2]) / Std[2]];
        var scores = new double[Classes];
        for (var k = 0; k < Classes; k++)
        {
            scores[k] = bias[k];
            for (var c = 0; c < 3; c++) scores[k] += weights[k, c] * v[c];
        }
        return scores;
    }

    private static int ArgMax(double[] scores)
    {
        var best = 0;
        for (var k = 1; k < scores.Length; k++) if (scores[k] > scores[best]) best = k;
        return best;
    }

    private static double Margin(double[] scores)
    {
        var sorted = scores.OrderDescending().ToArray();
        return sorted[0] - sorted[1];
    }

    private sealed record HandMetrics(long[,] Matrix, double[] IoU, double MeanIoU, double PixelAccuracy, long Pixels, double SmallestMargin);

    /// <summary>The confusion matrix (rows: label, columns: prediction) and its metrics, counted pixel by pixel.</summary>
    private static HandMetrics Count(Folder folder, double[,] weights, double[] bias)
    {
        var matrix = new long[Classes, Classes];
        var smallestMargin = double.PositiveInfinity;
        for (var n = 0; n < folder.Images.Count; n++)
        {
            var (image, mask) = (folder.Images[n], folder.Masks[n]);
            for (var y = 0; y < image.Height; y++)
                for (var x = 0; x < image.Width; x++)
                {
                    if (mask[y, x] == 255) continue;
                    var scores = Scores(image[y, x], weights, bias);
                    smallestMargin = Math.Min(smallestMargin, Margin(scores));
                    matrix[mask[y, x], ArgMax(scores)]++;
                }
        }
        var iou = new double[Classes];
        long correct = 0, pixels = 0;
        for (var c = 0; c < Classes; c++)
        {
            long truePositive = matrix[c, c], labelled = 0, predicted = 0;
            for (var j = 0; j < Classes; j++)
            {
                labelled += matrix[c, j];
                predicted += matrix[j, c];
            }
            var union = labelled + predicted - truePositive;
            iou[c] = union == 0 ? double.NaN : (double)truePositive / union;
            correct += truePositive;
            pixels += labelled;
        }
        var present = iou.Where(v => !double.IsNaN(v)).ToArray();
        return new HandMetrics(matrix, iou, present.Average(), (double)correct / pixels, pixels, smallestMargin);
    }

    private static PixelClassifierTestNet HandSetNetwork()
    {
        var network = new PixelClassifierTestNet();
        using var _ = no_grad();
        var state = network.state_dict();
        var weight = new float[Classes * 3];
        for (var k = 0; k < Classes; k++) for (var c = 0; c < 3; c++) weight[k * 3 + c] = (float)IdentityWeights[k, c];
        using var w = tensor(weight, new long[] { Classes, 3, 1, 1 });
        using var b = tensor(IdentityBias.Select(v => (float)v).ToArray());
        state["classifier.weight"].copy_(w);
        state["classifier.bias"].copy_(b);
        return network;
    }

    private static (double[,] Weights, double[] Bias) WeightsOf(nn.Module network)
    {
        var state = network.state_dict();
        var w = state["classifier.weight"].to(ScalarType.Float64).reshape(Classes, 3).data<double>().ToArray();
        var bias = state["classifier.bias"].to(ScalarType.Float64).data<double>().ToArray();
        var weights = new double[Classes, 3];
        for (var k = 0; k < Classes; k++) for (var c = 0; c < 3; c++) weights[k, c] = w[k * 3 + c];
        return (weights, bias);
    }

    private static void AssertEqualMetrics(HandMetrics expected, SegmentationMetrics actual)
    {
        Assert.Equal(expected.Pixels, actual.Pixels);
        for (var c = 0; c < Classes; c++)
        {
            long labelled = 0, predicted = 0;
            for (var j = 0; j < Classes; j++) { labelled += expected.Matrix[c, j]; predicted += expected.Matrix[j, c]; }
            Assert.Equal(labelled, actual.PerClass[c].LabelPixels);
            Assert.Equal(predicted, actual.PerClass[c].PredictedPixels);
            if (double.IsNaN(expected.IoU[c])) Assert.True(double.IsNaN(actual.PerClass[c].IoU), $"class {c}: IoU {actual.PerClass[c].IoU}, expected NaN");
            else Assert.Equal(expected.IoU[c], actual.PerClass[c].IoU, 12);
        }
        Assert.Equal(expected.MeanIoU, actual.MeanIoU, 12);
        Assert.Equal(expected.PixelAccuracy, actual.PixelAccuracy, 12);
    }

    [Fact]
    public void Evaluator_and_training_validation_give_the_hand_counted_metrics()
    {
        var folder = WriteFolder();
        var expected = Count(folder, IdentityWeights, IdentityBias);
        // The data is not trivial: every labelled class is right somewhere and wrong somewhere, class 3 is absent.
        for (var c = 0; c < 3; c++) Assert.InRange(expected.IoU[c], 0.01, 0.99);
        Assert.True(double.IsNaN(expected.IoU[3]));

        using var network = HandSetNetwork();
        var dataset = DatasetFactory.Parse(folder.Spec, new DatasetOptions { Split = "val" });
        var metrics = SegmentationEvaluator.Evaluate(network, dataset, WholeImageInference.ForOutputStride(network.OutputStride));
        AssertEqualMetrics(expected, metrics);

        // The trainer's validation callback, as `emanet train --data folder:...` builds it.
        var input = new TensorShape(3, 9, 9);
        var data = SegmentationDataSource.Open(new TrainingDataRequest(folder.Spec, input, Classes, new TrainingOptions { BatchSize = 2 }));
        Assert.Equal(expected.MeanIoU, data.Evaluate!(network), 12);
    }

    [Fact]
    public void Cli_eval_prints_the_hand_counted_metrics_for_hand_set_weights()
    {
        var folder = WriteFolder();
        var expected = Count(folder, IdentityWeights, IdentityBias);
        var weights = Path.Combine(_temp.New("eval-weights"), "pixel.safetensors");
        using (var network = HandSetNetwork())
            WeightsFile.Write(weights, network.state_dict());

        var table = ParseTable(RunEval(weights, folder.Spec));

        for (var c = 0; c < Classes; c++)
            Assert.Equal(Percent(expected.IoU[c]), table.IoU[c]);
        Assert.Equal(Percent(expected.MeanIoU), table.MeanIoU);
        Assert.Equal(Percent(expected.PixelAccuracy), table.PixelAccuracy);
        Assert.Equal(expected.Pixels, table.Pixels);
    }

    [Fact]
    public void Cli_eval_on_a_training_checkpoint_prints_the_library_numbers_which_are_the_hand_counted_ones()
    {
        var folder = WriteFolder();
        var run = _temp.New("eval-run");
        var input = new TensorShape(3, 9, 9);
        var options = new TrainingOptions
        {
            Iterations = 3, BatchSize = 2, LearningRate = 0.5, CheckpointInterval = 3, EvaluationInterval = 0, Device = "cpu",
        };
        var data = SegmentationDataSource.Open(new TrainingDataRequest(folder.Spec, input, Classes, options));
        (double[,] Weights, double[] Bias) afterTraining;
        using (var network = HandSetNetwork())
        using (var trainer = new Trainer(network, options, data.Batches, run))
        {
            Assert.True(trainer.Train().Completed);
            afterTraining = WeightsOf(network);
        }
        var checkpoint = Path.Combine(run, Trainer.CheckpointFileName);

        var entry = NetworkCatalog.Find(NetworkCatalog.Discover(typeof(PixelClassifierTestNet).Assembly), "pixel-classifier-test");
        using var trained = TrainedNetwork.Load(entry, checkpoint);
        var (weights, bias) = WeightsOf(trained);
        // The checkpoint's weights, not a fresh initialisation (TrainedNetwork.Load without a log used to load nothing).
        Assert.Equal(afterTraining.Weights.Cast<double>(), weights.Cast<double>());
        Assert.Equal(afterTraining.Bias, bias);
        Assert.NotEqual(IdentityBias[0], bias[0]);   // training moved the weights: the hand set ones are not what is evaluated
        var expected = Count(folder, weights, bias);
        Assert.True(expected.SmallestMargin > 1e-4, $"a pixel's two best scores are {expected.SmallestMargin:E2} apart: float rounding could flip it");
        var library = SegmentationEvaluator.Evaluate(trained, DatasetFactory.Parse(folder.Spec), new WholeImageInference(1, 0));
        AssertEqualMetrics(expected, library);

        var printed = RunEval(checkpoint, folder.Spec);
        var table = ParseTable(printed);

        for (var c = 0; c < Classes; c++)
        {
            Assert.Equal(Percent(library.PerClass[c].IoU), table.IoU[c]);
            Assert.Equal(Percent(library.PerClass[c].Accuracy), table.Accuracy[c]);
            Assert.Equal(library.PerClass[c].LabelPixels, table.LabelPixels[c]);
            Assert.Equal(library.PerClass[c].PredictedPixels, table.PredictedPixels[c]);
        }
        Assert.Equal(Percent(library.MeanIoU), table.MeanIoU);
        Assert.Equal(Percent(library.MeanAccuracy), table.MeanAccuracy);
        Assert.Equal(Percent(library.PixelAccuracy), table.PixelAccuracy);
        Assert.Equal(library.Pixels, table.Pixels);
    }

    [Fact]
    public void TrainedNetwork_loads_the_weights_with_or_without_a_log()
    {
        var path = Path.Combine(_temp.New("load-weights"), "pixel.safetensors");
        using (var network = HandSetNetwork())
            WeightsFile.Write(path, network.state_dict());
        var entry = NetworkCatalog.Find(NetworkCatalog.Discover(typeof(PixelClassifierTestNet).Assembly), "pixel-classifier-test");
        var logged = new List<string>();
        foreach (var log in new Action<string>?[] { null, logged.Add })
        {
            using var loaded = TrainedNetwork.Load(entry, path, log: log);
            var (weights, bias) = WeightsOf(loaded);
            Assert.Equal(IdentityWeights.Cast<double>(), weights.Cast<double>());
            Assert.Equal(IdentityBias, bias);
        }
        Assert.Equal(2, logged.Count);
        Assert.Equal("classes: 4 (from the weights' classifier classifier.weight out-channels)", logged[0]);
        Assert.EndsWith(": 2 tensors loaded (native layout)", logged[1]); // the layout, not a type name
    }

    private static string RunEval(string weights, string spec)
    {
        var environment = new CliEnvironment(NetworkCatalog.Discover(typeof(PixelClassifierTestNet).Assembly), [new DatasetProvider()]);
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = Program.Run(["eval", "pixel-classifier-test", "--weights", weights, "--data", spec], output, error, environment);
        Assert.True(exit == 0, $"exit {exit}: {error}");
        return output.ToString();
    }

    /// <summary>The table's rounding: percent with two decimals, "n/a" for NaN.</summary>
    private static string Percent(double fraction) =>
        double.IsNaN(fraction) ? "n/a" : (100 * fraction).ToString("F2", CultureInfo.InvariantCulture);

    private sealed record PrintedTable(string[] IoU, string[] Accuracy, long[] LabelPixels, long[] PredictedPixels,
        string MeanIoU, string MeanAccuracy, string PixelAccuracy, long Pixels);

    /// <summary>Rows "classN  IoU  Acc  label-px  pred-px", then "mIoU M  mAcc A  aAcc P  (N pixels, ...)".</summary>
    private static PrintedTable ParseTable(string output)
    {
        var lines = output.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        var rows = new string[Classes][];
        for (var c = 0; c < Classes; c++)
        {
            var row = lines.Single(l => l.StartsWith($"class{c} "));
            rows[c] = row.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(rows[c].Length == 5, $"row '{row}'");
        }
        var summary = Regex.Match(output, @"^mIoU (\S+)  mAcc (\S+)  aAcc (\S+)  \((\d+) pixels", RegexOptions.Multiline);
        Assert.True(summary.Success, output);
        return new PrintedTable(
            rows.Select(r => r[1]).ToArray(), rows.Select(r => r[2]).ToArray(),
            rows.Select(r => long.Parse(r[3], CultureInfo.InvariantCulture)).ToArray(), rows.Select(r => long.Parse(r[4], CultureInfo.InvariantCulture)).ToArray(),
            summary.Groups[1].Value, summary.Groups[2].Value, summary.Groups[3].Value, long.Parse(summary.Groups[4].Value, CultureInfo.InvariantCulture));
    }
}
