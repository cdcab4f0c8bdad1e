using EMANet.Cli;
using EMANet.Runtime.IO;
using EMANet.Runtime.Networks;
using EMANet.Tests.Equivalence;
using EMANet.Tests.Training;
using static TorchSharp.torch;

namespace EMANet.Tests.Cli;

/// <summary>predict, eval and convert end to end, on the PyTorch fixtures and the synthetic dataset.</summary>
[Collection(nameof(TorchGlobalState))]
public class WorkflowCommandTests : IDisposable
{
    private readonly TempFolders _temp = new();

    public void Dispose() => _temp.Dispose();

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    private static readonly CliEnvironment FixtureEnvironment =
        new(NetworkCatalog.Discover(typeof(FixtureEmaNetSmall).Assembly), [new DatasetProvider()]);

    private static (int Exit, string Output, string Error) Run(CliEnvironment? environment, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = Program.Run(args, output, error, environment);
        return (exit, output.ToString(), error.ToString());
    }

    [Theory]
    [InlineData("emanet_small.pth")]
    [InlineData("emanet_small.safetensors")]
    public void Predict_WithPyTorchWeights_ReproducesPyTorchLogits(string weights)
    {
        var folder = _temp.New("predict");
        var logits = Path.Combine(folder, "y.npy");
        var (exit, output, error) = Run(FixtureEnvironment, "predict", "fixture-emanet-small", "--weights", Fixture(weights),
            "--input", Fixture("emanet_small_input.npy"), "--output", Path.Combine(folder, "mask.png"), "--logits", logits,
            "--attention", Path.Combine(folder, "attention.png"));
        Assert.True(exit == 0, error);
        Assert.Contains("mask.png", output);
        using var expected = NpyFile.Read(Fixture("emanet_small_output.npy"));
        using var actual = NpyFile.Read(logits);
        Assert.Equal(expected.shape, actual.shape);
        double scale = expected.abs().max().item<float>();
        double difference = (actual - expected).abs().max().item<float>();
        Assert.True(difference <= 1e-4 * scale, $"max abs difference {difference:E3} over max |expected| {scale:E3}");
        Assert.True(new FileInfo(Path.Combine(folder, "attention.png")).Length > 0);
    }

    [Fact]
    public void Convert_PthToSafetensors_KeepsEveryTensor()
    {
        var folder = _temp.New("convert");
        var output = Path.Combine(folder, "w.safetensors");
        var (exit, _, error) = Run(FixtureEnvironment, "convert", Fixture("ema_head.pth"), output);
        Assert.True(exit == 0, error);
        using var original = WeightsFile.Read(Fixture("ema_head.pth"));
        using var converted = WeightsFile.Read(output);
        Assert.Equal(original.Keys.OrderBy(k => k), converted.Keys.OrderBy(k => k));
        foreach (var (name, tensor) in original)
            Assert.True(tensor.to(converted[name].dtype).equal(converted[name]).all().item<bool>(), name);
    }

    [Fact]
    public void Convert_DataParallelSafetensors_DropsModulePrefix_AndKeepsMetadata()
    {
        var folder = _temp.New("convert-ddp");
        var input = Path.Combine(folder, "ddp.safetensors");
        using (var original = WeightsFile.Read(Fixture("ema_head.pth")))
            WeightsFile.Write(input, original.Select(p => new KeyValuePair<string, TorchSharp.torch.Tensor>("module." + p.Key, p.Value)),
                new Dictionary<string, string> { ["classes"] = "6", ["source"] = "ddp run" });
        var output = Path.Combine(folder, "w.safetensors");
        var (exit, _, error) = Run(FixtureEnvironment, "convert", input, output);
        Assert.True(exit == 0, error);
        using var expected = WeightsFile.Read(Fixture("ema_head.pth"));
        using var converted = WeightsFile.Read(output);
        Assert.Equal(expected.Keys.OrderBy(k => k), converted.Keys.OrderBy(k => k));
        Assert.Equal("6", converted.Metadata["classes"]);
        Assert.Equal("ddp run", converted.Metadata["source"]);
    }

    [Fact]
    public void Predict_RefusesACorruptWeightsFile_InOneLineNamingIt()
    {
        var folder = _temp.New("corrupt");
        var corrupt = Path.Combine(folder, "broken.safetensors");
        var bytes = File.ReadAllBytes(Fixture("ema_head.safetensors"));
        File.WriteAllBytes(corrupt, bytes[..(bytes.Length / 2)]);
        var (exit, _, error) = Run(FixtureEnvironment, "predict", "fixture-ema-head", "--weights", corrupt,
            "--input", Fixture("ema_head_input.npy"), "--output", Path.Combine(folder, "mask.png"));
        Assert.Equal(1, exit);
        Assert.Single(error.Trim().Split('\n'));
        Assert.Contains("broken.safetensors", error);
        Assert.False(File.Exists(Path.Combine(folder, "mask.png")));
    }

    [Fact]
    public void TrainThenEvalThenConvert_OnSynthetic_RunsEndToEnd()
    {
        var folder = _temp.New("e2e");
        var (exit, output, error) = Run(FixtureEnvironment, "train", "fixture-emanet-small", "--data", "synthetic", "--out", folder,
            "--input", "3x33x33", "--iterations", "3", "--batch-size", "2", "--eval-interval", "0", "--bn-momentum", "keep");
        Assert.True(exit == 0, error);
        var checkpoint = Path.Combine(folder, "checkpoint.ckpt");
        Assert.True(File.Exists(checkpoint));
        foreach (var file in new[] { "curves.png", "curves.csv", "sample-prediction.png", "sample-overlay.png", "sample-attention.png" })
            Assert.True(File.Exists(Path.Combine(folder, file)), file);

        (exit, output, error) = Run(FixtureEnvironment, "eval", "fixture-emanet-small", "--weights", checkpoint, "--data", "synthetic", "--limit", "4", "--scales", "0.75,1", "--flip");
        Assert.True(exit == 0, error);
        Assert.Contains("mIoU", output);

        var safetensors = Path.Combine(folder, "w.safetensors");
        (exit, _, error) = Run(FixtureEnvironment, "convert", checkpoint, safetensors);
        Assert.True(exit == 0, error);
        using var tensors = WeightsFile.Read(safetensors);
        Assert.Contains("emau.mu", tensors.Keys);
        Assert.Equal(EMANet.Runtime.Data.SyntheticShapesDataset.DefaultClasses.ToString(), tensors.Metadata["classes"]); // eval/predict default to it
    }
}
